"""Confirmation by email, on each backend, through the real app and a real SMTP server run by
the tests (STARTTLS and login): signing leaves the count alone and answers every address alike;
the email arrives in the reader's language with no tracking; opening the link changes nothing;
its button adds one; pressing again adds nothing; a repeat of a confirmed address gets an email
saying it is counted; links expire; a stopped mail server never holds up a reader."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace

import aiosmtplib
import pytest

from tests.conftest import count, sign, signer
from tests.mailserver import MailServer, free_port
from widget import mail
from widget.housekeeping import Housekeeping
from widget.settings import Settings, SettingsError

LINK_RE = re.compile(r"https?://\S+/c/belarus/confirm/([A-Za-z0-9_-]+)\?lang=(\w+)")
CODE_RE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")


@pytest.fixture
def mailserver(tmp_path):
    server = MailServer(tmp_path).start()
    yield server
    server.stop()


def mail_settings(server: MailServer) -> dict[str, str]:
    return {
        "smtp_url": server.url,
        "smtp_ca_file": str(server.cert),
        "mail_from": "petitions@example.org",
    }


async def confirming(client) -> None:
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, confirm_email=True))
    await service.campaigns.reload(force=True)


@pytest.fixture
async def client_with_mail(client_factory, mailserver):
    async with client_factory(**mail_settings(mailserver)) as client:
        await confirming(client)
        yield client


def link_of(message) -> str:
    match = LINK_RE.search(message.get_body(("plain",)).get_content())
    assert match, "no confirmation link in the email"
    return f"/c/belarus/confirm/{match.group(1)}?lang={match.group(2)}"


async def test_a_signature_counts_once_its_link_is_confirmed(client_with_mail, mailserver):
    client = client_with_mail
    answer = await sign(client, signer(1))
    assert answer.status_code == 200
    assert answer.json()["pending"] is True and answer.json()["count"] == 785
    assert await count(client) == 785

    (message,) = await mailserver.wait_for(1)
    assert message["To"] == "alesia1@example.org"
    assert message["From"] == "petitions@example.org"
    assert message["Subject"] == "Confirm your signature: Protect peaceful protesters in Belarus"
    assert mailserver.logins == ["mailer"]  # over STARTTLS, with the password
    html = message.get_body(("html",)).get_content()
    assert "<img" not in html and "src=" not in html and "style" not in html
    assert set(re.findall(r'href="([^"]+)"', html)) == {"http://testserver" + link_of(message)}

    link = link_of(message)
    opened = await client.get(link)  # what a mail scanner does
    assert opened.status_code == 200 and "Confirm my signature" in opened.text
    assert 'method="post"' in opened.text
    assert await count(client) == 785

    confirmed = await client.post(link, data={"lang": "en"})
    assert confirmed.status_code == 200
    assert "your signature is confirmed and counted" in confirmed.text
    assert await count(client) == 786
    again = await client.post(link, data={"lang": "en"})
    assert again.status_code == 200 and "already confirmed" in again.text
    assert "Confirm my signature</button>" not in (await client.get(link)).text
    assert await count(client) == 786

    # Exports and statistics have it now; before, it was only "awaiting confirmation".
    stats = await client.app.state.service.store.stats("belarus", "2000-01-01T00:00:00Z")
    assert stats.pending == 0 and sum(n for _, n in stats.per_day) == 1


async def test_a_repeat_is_answered_alike_and_told_by_email_it_is_counted(
    client_with_mail, mailserver
):
    client = client_with_mail
    await sign(client, signer(1))
    (first,) = await mailserver.wait_for(1)
    await client.post(link_of(first), data={"lang": "en"})

    repeat = await sign(client, signer(1, email="ALESIA1@example.org"))
    new = await sign(client, signer(2))
    masked = [CODE_RE.sub("CODE", r.text) for r in (repeat, new)]
    assert masked[0] == masked[1] and repeat.status_code == new.status_code == 200
    assert await count(client) == 786

    messages = await mailserver.wait_for(3)
    by_address = {m["To"]: m for m in messages[1:]}
    told = by_address["alesia1@example.org"]
    assert told["Subject"].strip().startswith("Your signature is already counted")
    assert "/confirm/" not in told.get_body(("plain",)).get_content()
    assert by_address["alesia2@example.org"]["Subject"].strip().startswith("Confirm your signature")


async def test_the_email_is_in_the_readers_language(client_with_mail, mailserver):
    await sign(client_with_mail, signer(1, lang="ru"))
    (message,) = await mailserver.wait_for(1)
    assert message["Subject"].strip().startswith("Подтвердите вашу подпись")
    assert message["Content-Language"] == "ru"
    page = await client_with_mail.get(link_of(message))
    assert '<html lang="ru"' in page.text


async def test_without_javascript_the_thank_you_says_check_your_inbox(client_with_mail):
    answer = await sign(client_with_mail, signer(1, view="hosted"), json=False)
    page = await client_with_mail.get(answer.headers["location"])
    assert "Check your inbox" in page.text and "Your name has been added" not in page.text
    assert "works for 7 days" in page.text


async def test_an_expired_link_says_so_and_its_signature_goes(
    client_with_mail, mailserver, database
):
    client = client_with_mail
    await sign(client, signer(1))
    (message,) = await mailserver.wait_for(1)
    database.execute("UPDATE signatures SET signed_at = '2020-01-01T00:00:00Z'")
    link = link_of(message)
    assert (await client.get(link)).status_code == 410
    refused = await client.post(link, data={"lang": "en"})
    assert refused.status_code == 410 and "expired" in refused.text
    assert await count(client) == 785
    service = client.app.state.service
    await Housekeeping(service.store, lambda: asyncio.sleep(0)).round()
    assert database.rows("SELECT count(*) FROM signatures") == [(0,)]
    # A made-up link gets the same answer as an expired one.
    made_up = await client.get("/c/belarus/confirm/" + "A" * 32)
    assert made_up.status_code == 410 and "expired" in made_up.text


async def test_a_stopped_mail_server_holds_up_no_reader(
    client_factory, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(mail, "RETRY_DELAYS", (0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2))
    port = free_port()
    server = MailServer(tmp_path, port)  # not started yet: the port refuses connections
    async with client_factory(**mail_settings(server)) as client:
        await confirming(client)
        answer = await sign(client, signer(1))
        assert answer.status_code == 200 and answer.json()["pending"] is True
        deadline = time.monotonic() + 10
        while "a confirmation email failed" not in caplog.text:
            assert time.monotonic() < deadline, "no attempt failed against the stopped server"
            await asyncio.sleep(0.01)
        server.start()
        try:
            (message,) = await server.wait_for(1)
        finally:
            server.stop()
        assert message["To"] == "alesia1@example.org"


async def test_shutdown_ends_a_mail_task_that_lost_its_cancellation(
    client_factory, mailserver, monkeypatch
):
    """On Python 3.11, asyncio.wait_for (aiosmtplib's timeouts) can lose a cancellation that
    comes as the awaited connection attempt ends, and raise the attempt's own error instead:
    the outbox then takes it for a failed send and waits for its next letter. Seen once in CI,
    where the app's shutdown waited for it for ever. Here a send loses it every time."""
    sending = asyncio.Event()

    async def send_losing_the_cancellation(smtp, message) -> None:
        sending.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise aiosmtplib.SMTPConnectError("Error connecting to localhost") from None

    monkeypatch.setattr(mail, "send", send_losing_the_cancellation)
    app = client_factory(**mail_settings(mailserver))
    client = await app.__aenter__()
    try:
        await confirming(client)
        assert (await sign(client, signer(1))).status_code == 200
        await asyncio.wait_for(sending.wait(), 10)
    finally:
        # Not wait_for: it would cancel the shutdown, and that cancellation reaches the task.
        shutdown = asyncio.ensure_future(app.__aexit__(None, None, None))
        await asyncio.wait({shutdown}, timeout=10)
        ended = shutdown.done()
        while not shutdown.done():
            shutdown.cancel()
            await asyncio.wait({shutdown}, timeout=1)
    assert ended, "the shutdown was still waiting for the mail task after 10 seconds"


async def test_without_a_mail_server_such_a_campaign_refuses_to_sign(client):
    await confirming(client)
    refused = await sign(client, signer(1))
    assert refused.status_code == 503
    assert await count(client) == 785


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"smtp_url": "http://mail.example.org"}, "expected smtp://"),
        ({"smtp_url": "smtp://mail.example.org:x"}, "port is not a number"),
        ({"smtp_url": "smtp://mail.example.org?starttls=off"}, "only for a relay on localhost"),
        ({"smtp_url": "smtp://mail.example.org?verify=no"}, "the only option"),
        ({"smtp_url": "smtp://mail.example.org"}, "MAIL_FROM: required"),
        ({"smtp_url": "smtp://mail.example.org", "mail_from": "nobody"}, "MAIL_FROM: expected"),
        ({"confirm_days": 0}, "CONFIRM_DAYS: must be at least 1"),
    ],
)
def test_mail_settings_are_checked_at_start(tmp_path, values, says):
    settings = Settings(database=str(tmp_path / "db.sqlite"), secret_key="k" * 40, **values)
    with pytest.raises(SettingsError, match=re.escape(says)):
        settings.resolve()


def test_the_smtp_address_is_read_and_never_shows_its_password():
    smtp = mail.parse_smtp_url("smtps://u%40x:p%2Fw@mail.example.org")
    assert (smtp.hostname, smtp.port, smtp.username, smtp.password) == (
        "mail.example.org", 465, "u@x", "p/w",
    )  # fmt: skip
    assert smtp.use_tls and not smtp.start_tls
    plain = mail.parse_smtp_url("smtp://127.0.0.1:2525?starttls=off")
    assert not plain.use_tls and not plain.start_tls
    assert mail.parse_smtp_url("smtp://mail.example.org").start_tls
    assert "p/w" not in repr(smtp)
