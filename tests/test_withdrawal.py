"""Withdrawal codes on the real app, on each backend: a signer withdraws with the code they were
shown, with and without JavaScript; the count drops by one and the export no longer has the
signature; unknown, used and other campaigns' codes get one and the same answer; only a keyed
hash is stored; the host page never hears of the code."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import OPENER, TEST_SECRET, count, sign, signer
from widget import exports, withdrawal
from widget.campaigns import load_file
from widget.resources import resource

CODE_RE = re.compile(r"data-pw-withdraw-code>([0-9A-Z-]+)<")
NO_MATCH = "This code does not match a signature on this petition"


async def withdraw(client, code: str, slug: str = "belarus", **extra: str):
    return await client.post(f"/c/{slug}/withdraw", data={"code": code, "lang": "en", **extra})


async def exported_emails(client, slug: str = "belarus") -> list[str]:
    store = client.app.state.service.store
    campaign = await client.app.state.service.campaigns.get(slug)
    data = b"".join([chunk async for chunk in exports.operator_csv(store, campaign, OPENER)])
    return re.findall(rb"[\w.]+@example\.org", data)


def test_codes_are_80_bits_in_groups_without_look_alikes():
    codes = {withdrawal.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    assert len(withdrawal.ALPHABET) == 32 and withdrawal.LENGTH * 5 >= 80
    assert set("".join(codes).replace("-", "")) == set(withdrawal.ALPHABET)


def test_a_code_is_read_back_as_typed():
    code = "7KQM-3X9D-A2FH-VN4T"
    typed = ["7kqm 3x9d a2fh vn4t", "7KQM3X9DA2FHVN4T", " 7kqm-3x9d-a2fh-vn4t "]
    assert {withdrawal.key("s" * 32, t) for t in typed} == {withdrawal.key("s" * 32, code)}
    # I and L are read as 1, O as 0: what a reader may copy wrongly by hand.
    assert withdrawal.key("s" * 32, "0000-1111-0000-1111") == withdrawal.key(
        "s" * 32, "OOOO-IIII-oooo-llll"
    )
    assert withdrawal.key("s" * 32, code) != withdrawal.key("t" * 32, code)  # keyed
    for bad in ("", "7KQM-3X9D-A2FH", "7KQM-3X9D-A2FH-VN4T-AAAA", "7KQM-3X9D-A2FH-VN4!"):
        with pytest.raises(ValueError):
            withdrawal.normalise(bad)


async def test_withdraw_with_the_code_shown_after_signing_by_fetch(client, database):
    before = await count(client)
    signed = await sign(client, signer(1))
    code = signed.json()["withdraw_code"]
    await sign(client, signer(2))
    assert await count(client) == before + 2
    assert b"alesia1@example.org" in await exported_emails(client)
    # Only the keyed hash is kept: the code is nowhere in the database.
    keys = {bytes(k) for (k,) in database.rows("SELECT withdraw_key FROM signatures")}
    assert withdrawal.key(TEST_SECRET, code) in keys
    assert code.replace("-", "").encode() not in database.raw_bytes()

    done = await withdraw(client, code.lower())
    assert done.status_code == 200
    assert "Your signature has been withdrawn" in done.text
    assert await count(client) == before + 1
    emails = await exported_emails(client)
    assert b"alesia1@example.org" not in emails and b"alesia2@example.org" in emails
    audit = await client.app.state.service.store.audit_log()
    entry = next(e for e in audit if e.action == "signature.withdraw")
    assert entry.campaign == "belarus" and entry.actor == "signer"
    assert "alesia" not in entry.detail.lower() and code not in entry.detail


async def test_withdraw_with_the_code_on_the_thank_you_page_without_javascript(client):
    before = await count(client)
    signed = await sign(client, signer(3, view="hosted"), json=False)
    assert signed.status_code == 303
    thanks_url = signed.headers["location"]
    page = await client.get(thanks_url)
    code = CODE_RE.search(page.text).group(1)
    assert "/c/belarus/withdraw" in page.text
    # The address in the history holds a sealed receipt, not the code.
    receipt = parse_qs(urlsplit(thanks_url).query)["receipt"][0]
    assert code not in thanks_url and code.replace("-", "") not in receipt
    assert (await withdraw(client, code)).status_code == 200
    assert await count(client) == before


async def test_unknown_used_and_other_campaigns_codes_get_one_answer(client):
    store = client.app.state.service.store
    belarus = load_file(resource("campaigns") / "belarus.toml")
    other = replace(belarus, slug="other", counter_offset=0, count_every_hours=0)
    await store.save_campaign(other)
    await client.app.state.service.campaigns.reload(force=True)
    mine = (await sign(client, signer(4))).json()["withdraw_code"]
    theirs = (await sign(client, signer(5), slug="other")).json()["withdraw_code"]
    assert (await withdraw(client, mine)).status_code == 200
    after = await count(client)

    answers = [
        await withdraw(client, mine),  # used
        await withdraw(client, withdrawal.new_code()),  # unknown
        await withdraw(client, theirs),  # another campaign's
    ]
    for answer in answers:
        assert answer.status_code == 422
        assert NO_MATCH in answer.text
    bodies = {a.text.replace(a.text.split('value="')[-1].split('"')[0], "") for a in answers}
    assert len(bodies) == 1, "the answers differ by more than the code typed"
    assert await count(client) == after
    assert await count(client, "other") == 1


async def test_a_code_that_cannot_be_one_says_how_it_looks(client):
    answer = await withdraw(client, "hello")
    assert answer.status_code == 422
    assert "16 letters and digits" in answer.text


async def test_a_closed_campaign_still_lets_its_signers_withdraw(client):
    code = (await sign(client, signer(6))).json()["withdraw_code"]
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, status="closed"))
    await service.campaigns.reload(force=True)
    assert (await withdraw(client, code)).status_code == 200


async def test_the_withdraw_page_is_not_framed_and_refuses_foreign_posts(client):
    page = await client.get("/c/belarus/withdraw?lang=fr")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert 'name="code"' in page.text
    foreign = await withdraw(client, withdrawal.new_code(), headers=None)
    assert foreign.status_code == 422
    refused = await client.post(
        "/c/belarus/withdraw", data={"code": withdrawal.new_code()},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert refused.status_code == 403


def test_a_receipt_opens_for_its_campaign_and_only_for_a_few_minutes(monkeypatch):
    receipts = withdrawal.Receipts("s" * 32, seconds=600)
    receipt = receipts.issue("belarus", "7KQM-3X9D-A2FH-VN4T")
    assert receipts.open(receipt, "belarus") == "7KQM-3X9D-A2FH-VN4T"
    assert receipts.open(receipt, "other") == ""
    assert withdrawal.Receipts("t" * 32).open(receipt, "belarus") == ""
    # One character changed in the middle, where every bit counts (the last two characters,
    # used before, could already be "AA", or carry bits base64 ignores: once in CI).
    mid = len(receipt) // 2
    tampered = receipt[:mid] + ("B" if receipt[mid] == "A" else "A") + receipt[mid + 1 :]
    assert receipts.open(tampered, "belarus") == ""
    assert receipts.open("", "belarus") == ""
    later = withdrawal.time.time() + 601
    monkeypatch.setattr(withdrawal.time, "time", lambda: later)
    assert receipts.open(receipt, "belarus") == ""
