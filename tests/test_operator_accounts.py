"""Operators' accounts as an infiltrator would try them: a session ends when it should, on
every instance; failed logins slow a guesser without locking the owner out; dangerous acts
need a fresh password; and every operator sees what was done."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from tests.conftest import BASE, count, counted_live, make_settings, sign, signer
from tests.test_abuse import REDIS_URL, redis_db  # noqa: F401 - a fixture
from tests.test_admin import CSRF_RE, HIDDEN_RE, PASSWORD, add_operator
from tests.test_sealing import DOMAIN_KEY
from widget import auth, logins, operations, operators, sealing
from widget.app import create_app

At = Callable[[str], httpx.AsyncClient]
OLD = "2000-01-01T00:00:00Z"


@pytest.fixture
def app_at(database):
    """One app with these settings; `at(address)` is a browser (its own cookies) there."""

    @contextlib.asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[tuple[Any, At]]:
        app = create_app(make_settings(database, **overrides))
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            await counted_live(app.state.service)

            def at(address: str) -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=app, client=(address, 1234))
                client = httpx.AsyncClient(transport=transport, base_url=BASE)
                client.app = app  # type: ignore[attr-defined]
                stack.push_async_callback(client.aclose)
                return client

            yield app, at

    return factory


async def log_in(client, email="op@example.org", password=PASSWORD) -> httpx.Response:
    page = await client.get("/admin/login")
    token = CSRF_RE.search(page.text).group(1)
    return await client.post(
        "/admin/login", data={"csrf": token, "email": email, "password": password}
    )


async def form_post(client, path, data=None) -> httpx.Response:
    page = await client.get("/admin")
    assert page.status_code == 200, "not logged in"
    token = CSRF_RE.search(page.text).group(1)
    return await client.post(path, data={"csrf": token, **(data or {})})


async def stale(app, operator="op@example.org", column="verified_at") -> None:
    """Make the operator's sessions look as if `column` was long ago."""
    async with app.state.service.store.backend.transaction() as tx:
        await tx.execute(
            f"UPDATE admin_sessions SET {column} = ? WHERE operator = ?", OLD, operator
        )


async def test_a_saved_cookie_is_refused_after_logout(app_at):
    async with app_at() as (_, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        assert (await log_in(browser)).status_code == 303
        saved = browser.cookies.get(auth.SESSION_COOKIE)
        assert (await browser.get("/admin")).status_code == 200
        assert (await form_post(browser, "/admin/logout")).status_code == 303

        replay = at("192.0.2.1")
        replay.cookies.set(auth.SESSION_COOKIE, saved, path="/admin")
        again = await replay.get("/admin")
        assert again.status_code == 303 and again.headers["location"].startswith("/admin/login")
        assert "pw_admin=;" in again.headers["set-cookie"]  # the browser is told to drop it
        assert (await replay.post("/admin/campaigns/belarus/export/delivery")).status_code == 401


@pytest.mark.parametrize("change", ["remove", "password"])
async def test_removing_an_operator_or_a_new_password_ends_their_sessions(app_at, change):
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        infiltrator = at("192.0.2.1")
        await log_in(infiltrator)
        assert (await infiltrator.get("/admin")).status_code == 200
        if change == "remove":
            await operations.remove_operator(store, "cli", "op@example.org")
        else:
            await operations.add_operator(store, "cli", "op@example.org", "another long password")
        assert (await infiltrator.get("/admin")).status_code == 303
        for path in ("/admin/campaigns/belarus/export/operator", "/admin/signers"):
            assert (await infiltrator.post(path, data={})).status_code in (303, 401)
        # Their cookie no longer re-points a partner's key either.
        _, key = sealing.generate_keypair()
        saved = await infiltrator.post(
            "/admin/partners", data={"code": "p", "name": "P", "public_key": key}
        )
        assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/login")
        assert await store.partners() == []


async def test_the_database_holds_no_usable_cookie_and_sessions_can_be_listed_and_ended(app_at):
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        await add_operator(at("192.0.2.1"), "colleague@example.org")
        mine, theirs = at("192.0.2.1"), at("198.51.100.7")
        await log_in(mine)
        await log_in(theirs, "colleague@example.org")
        token = theirs.cookies.get(auth.SESSION_COOKIE)
        sessions = await store.sessions()
        assert len(sessions) == 2
        assert token not in repr(sessions) and auth.session_id(token) in repr(sessions)
        assert "198.51" not in repr(sessions)  # no address kept, only a coarse browser name

        listing = await mine.get("/admin/sessions")
        assert "colleague@example.org" in listing.text and "(this one)" in listing.text
        theirs_id = next(s.id for s in sessions if s.operator == "colleague@example.org")
        ended = await form_post(mine, "/admin/sessions", {"session": theirs_id})
        assert ended.headers["location"] == "/admin/sessions?ended=1"
        assert (await theirs.get("/admin")).status_code == 303
        assert (await mine.get("/admin")).status_code == 200
        log = await store.audit_log()
        assert log[0].action == "session.end" and log[0].actor == "op@example.org"


@pytest.mark.parametrize("column", ["last_seen", "created_at"])
async def test_idle_and_old_sessions_end(app_at, column):
    async with app_at() as (app, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        await stale(app, column=column)
        assert (await browser.get("/admin")).status_code == 303
        assert await app.state.service.store.sessions() == []


async def test_the_login_form_needs_its_own_cookie(app_at):
    async with app_at() as (_, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        page = await browser.get("/admin/login")
        token = CSRF_RE.search(page.text).group(1)
        browser.cookies.clear()
        refused = await browser.post(
            "/admin/login", data={"csrf": token, "email": "op@example.org", "password": PASSWORD}
        )
        assert refused.status_code == 403


async def test_wrong_passwords_slow_that_network_but_never_lock_the_owner_out(app_at):
    async with app_at() as (_, at):
        await add_operator(at("192.0.2.1"))
        guesser = at("2001:db8:1:2::10")
        for _ in range(5):
            assert (await log_in(guesser, password="wrong password!!")).status_code == 401
        refused = await log_in(guesser)  # even the right password, from there
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 60
        # Another address in the same /64 is the same network.
        assert (await log_in(at("2001:db8:1:2::99"))).status_code == 429
        # The owner, from their own network, gets in.
        owner = at("2001:db8:aaaa:1::5")
        assert (await log_in(owner)).status_code == 303
        assert (await owner.get("/admin")).status_code == 200


def test_the_account_delay_grows_and_stays_short():
    delays = [logins.account_delay(n) for n in range(0, 40)]
    assert delays[:5] == [0.0] * 5
    assert delays == sorted(delays)
    assert max(delays) == logins.MAX_ACCOUNT_DELAY <= 10


async def test_password_checks_run_off_the_event_loop(monkeypatch):
    import threading

    seen = []
    monkeypatch.setattr(
        operators, "verify_password", lambda p, s: seen.append(threading.current_thread()) or True
    )
    limiter = logins.LoginLimiter()
    try:
        assert await limiter.check_password("x", "y")
    finally:
        await limiter.close()
    assert seen and seen[0] is not threading.main_thread()


async def test_dangerous_acts_need_a_fresh_password(app_at):
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        # Just logged in: the password is fresh.
        assert (
            await form_post(browser, "/admin/campaigns/belarus/export/delivery")
        ).status_code == 200
        await stale(app)
        asked = await form_post(browser, "/admin/campaigns/belarus/export/delivery")
        assert asked.status_code == 200 and 'name="confirm_password"' in asked.text
        assert "text/csv" not in asked.headers["content-type"]
        replay = dict(HIDDEN_RE.findall(asked.text))
        assert set(replay) == {"csrf"}
        path = "/admin/campaigns/belarus/export/delivery"
        wrong = await browser.post(path, data={**replay, "confirm_password": "not it at all"})
        assert wrong.status_code == 401 and "not the right password" in wrong.text
        right = await browser.post(path, data={**replay, "confirm_password": PASSWORD})
        assert right.status_code == 200 and right.headers["content-type"].startswith("text/csv")
        # Confirmed: the next act within the window goes through at once.
        deleted = await form_post(browser, "/admin/signers", {"email": "a@example.org"})
        assert deleted.status_code == 200 and "confirm_password" not in deleted.text

        await stale(app)
        for path, data in [
            ("/admin/signers", {"email": "a@example.org"}),
            # (their preview, which changes nothing, asks for nothing)
            (
                "/admin/campaigns/belarus/review/invalidate",
                {"since": "2026-01-01T00:00", "proceed": "1"},
            ),
            ("/admin/campaigns/belarus/review/purge", {"days": "30", "proceed": "1"}),
            ("/admin/campaigns/belarus/partner-link", {"partner": "p"}),
            ("/admin/partners", {"code": "p", "name": "P", "origins": "https://p.example"}),
        ]:
            asked = await form_post(browser, path, data)
            assert 'name="confirm_password"' in asked.text, path
        assert await store.partners() == []

        # Every operator sees the acts on the front page.
        await add_operator(at("192.0.2.1"), "colleague@example.org")
        colleague = at("198.51.100.7")
        await log_in(colleague, "colleague@example.org")
        home = await colleague.get("/admin")
        assert "export" in home.text and "op@example.org" in home.text
        assert "signer.delete" in home.text


async def test_a_count_by_email_domain_needs_a_fresh_password_and_every_operator_sees_it(app_at):
    """The invalidation preview by email domain answers "did anyone at this domain sign?" (a
    family's or a small employer's domain names people): asked like the act, and audited."""
    async with app_at(domain_key=DOMAIN_KEY) as (app, at):
        await add_operator(at("192.0.2.1"))
        reader = at("203.0.113.9")
        await sign(reader, signer(1, email="alesia@family.example"))
        browser = at("192.0.2.1")
        await log_in(browser)
        await stale(app)
        path = "/admin/campaigns/belarus/review/invalidate"
        by_time = await form_post(browser, path, {"since": "2026-01-01T00:00"})
        assert "Invalidate 1 signature(s)?" in by_time.text  # changes nothing, tells no one
        asked = await form_post(browser, path, {"email_domain": "family.example"})
        assert 'name="confirm_password"' in asked.text and "Invalidate 1" not in asked.text
        replay = dict(HIDDEN_RE.findall(asked.text))
        counted = await browser.post(path, data={**replay, "confirm_password": PASSWORD})
        assert "Invalidate 1 signature(s)?" in counted.text
        assert await count(reader) == 786  # nothing changed

        await add_operator(at("192.0.2.1"), "colleague@example.org")
        colleague = at("198.51.100.7")
        await log_in(colleague, "colleague@example.org")
        home = (await colleague.get("/admin")).text
        row = re.search(r"<tr>(?:(?!</tr>).)*invalidate\.count.*?</tr>", home, re.S)
        assert row and "email_domain=family.example" in row[0]
        assert "1 by" not in row[0]  # what was asked, not the answer


@pytest.mark.parametrize(
    ("change", "action", "shown"),
    [
        # A page on an origin the campaign names hears that its visitor signed.
        ({"allowed_origins": "https://watcher.example"}, "campaign.origins",
         "https://watcher.example"),
        # Closed in the past and purged 0 days later: a purge, at the next housekeeping round.
        ({"closes_at": "2026-01-01T00:00:00Z", "purge_after_days": "0"}, "campaign.schedule",
         "purge_after_days: None -&gt; 0"),
        # Every signer's address gets an email: evidence of signing in an inbox.
        ({"confirm_email": "1"}, "campaign.confirm-email", "confirm_email: False -&gt; True"),
        # Readers who press play tell the video's host their IP address.
        ({"video_url": "https://video.watcher.example/embed/1"}, "campaign.video",
         "https://video.watcher.example/embed/1"),
        # A count that moves with each signature tells a watching site when its visitor signed.
        ({"count_every_hours": "0"}, "campaign.count", "count_every_hours: 24 -&gt; None"),
    ],
    ids=["trusted-host", "purge-time", "confirm-email", "video-host", "live-count"],
)  # fmt: skip
async def test_a_campaign_edit_that_stands_for_a_dangerous_act_needs_a_fresh_password(
    app_at, change, action, shown
):
    """An infiltrator could name their own site among a campaign's origins, set its purge for
    now, have every signer emailed, or put readers one click from a host of theirs, through
    the edit form: each asks for the password again, like a partner's origins or a purge, and
    every operator sees it done. Editing the texts asks for nothing."""
    from tests.test_admin import NEW_CAMPAIGN

    async with app_at() as (app, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        await stale(app)
        path = "/admin/campaigns/belarus"
        # Published once a day: making it live again is the dangerous edit, not this.
        form = {**NEW_CAMPAIGN, "counter_offset": "785", "allowed_origins": "",
                "count_every_hours": "24"}  # fmt: skip
        texts = await form_post(browser, path, {**form, "title": "A new title"})
        assert texts.status_code == 303  # `*` stays: any page frames it, none is told
        before = await app.state.service.campaigns.get("belarus")
        asked = await form_post(browser, path, {**form, **change})
        assert 'name="confirm_password"' in asked.text
        assert await app.state.service.campaigns.get("belarus") == before
        replay = dict(HIDDEN_RE.findall(asked.text))
        saved = await browser.post(path, data={**replay, "confirm_password": PASSWORD})
        assert saved.status_code == 303
        assert await app.state.service.campaigns.get("belarus") != before

        await add_operator(at("192.0.2.1"), "colleague@example.org")
        colleague = at("198.51.100.7")
        await log_in(colleague, "colleague@example.org")
        home = (await colleague.get("/admin")).text
        assert action in home and shown in home
        assert "A new title" not in home  # a text edit is in the audit log, not on the front page


async def test_renaming_a_partner_needs_no_password_but_a_new_key_does(app_at):
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        form = {"code": "p", "name": "P", "origins": "https://p.example"}
        assert (await form_post(browser, "/admin/partners", form)).status_code == 303
        await stale(app)
        form["editing"] = "p"  # from the partner's Edit link
        renamed = await form_post(browser, "/admin/partners", {**form, "name": "Partner"})
        assert renamed.status_code == 303
        _, key = sealing.generate_keypair()
        rekeyed = await form_post(browser, "/admin/partners", {**form, "public_key": key})
        assert 'name="confirm_password"' in rekeyed.text
        assert (await store.partners())[0].public_key == ""


async def test_a_partner_is_changed_from_its_edit_form_which_keeps_what_is_stored(app_at):
    """The form for a new partner used to replace one with the same code, blanks and all: a
    name corrected there dropped the origins its site embeds from. Now a partner's Edit link
    fills the form with what is stored, and the form for a new one refuses a taken code."""
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        _, key = sealing.generate_keypair()
        origins = "https://p.example https://www.p.example"
        form = {"code": "p", "name": "Partnr", "contact": "a@p.example", "origins": origins,
                "public_key": key}  # fmt: skip
        assert (await form_post(browser, "/admin/partners", form)).status_code == 303
        stored = (await store.partners())[0]

        listed = (await browser.get("/admin/partners")).text
        assert 'href="/admin/partners?edit=p#partner-form"' in listed
        assert re.search(r"<td>yes, since \d{4}-\d\d-\d\d \d\d:00 UTC</td>", listed)
        assert "Add a partner" in listed and 'name="editing"' not in listed
        refused = await form_post(browser, "/admin/partners", {"code": "p", "name": "Partner"})
        assert refused.status_code == 422
        assert "is another partner&#39;s: use its Edit link to change it" in refused.text
        assert await store.partners() == [stored]

        edit = await browser.get("/admin/partners?edit=p")
        assert "Change Partnr (<code>p</code>)" in edit.text
        assert '<input type="hidden" name="editing" value="p">' in edit.text
        filled = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', edit.text))
        assert filled == form
        assert 'value="p" readonly' in edit.text
        await stale(app)  # a name alone needs no password again
        saved = await form_post(browser, "/admin/partners", {**filled, "name": "Partner",
                                                             "editing": "p"})  # fmt: skip
        assert saved.status_code == 303
        assert await store.partners() == [replace(stored, name="Partner")]
        (entry, *_) = await store.audit_log()
        assert entry.detail == "p: name: 'Partnr' -> 'Partner'"
        assert (await browser.get("/admin/partners?edit=nobody")).status_code == 200


async def test_a_partner_removed_in_the_admin_no_longer_frames_nor_asks_for_consent(app_at):
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        service = app.state.service
        own = replace(
            await service.campaigns.get("belarus"), allowed_origins=("https://o.example",)
        )
        await operations.save_campaign(store, "test", own)  # a campaign that lists its origins
        form = {"code": "p", "name": "Partner P", "origins": "https://p.example"}
        assert (await form_post(browser, "/admin/partners", form)).status_code == 303
        page = await browser.get("/c/belarus/embed?partner=p")
        assert "Also share my name and email with Partner P" in page.text
        assert "https://p.example" in page.headers["content-security-policy"]
        assert (
            'action="/admin/partners/p/remove"'
            in (await browser.get("/admin/partners?edit=p")).text
        )
        removed = await form_post(browser, "/admin/partners/p/remove")
        assert removed.status_code == 303 and await store.partners() == []
        page = await browser.get("/c/belarus/embed?partner=p")
        assert page.status_code == 200 and "Also share my name" not in page.text
        assert "https://p.example" not in page.headers["content-security-policy"]
        (entry, *_) = await store.audit_log()
        assert (entry.actor, entry.action, entry.detail) == (
            "op@example.org",
            "partner.remove",
            "p",
        )
        assert (await form_post(browser, "/admin/partners/p/remove")).status_code == 404


async def test_login_waits_are_shared_through_redis_and_survive_its_outage(
    database,
    redis_db,  # noqa: F811 - the fixture
    caplog,
):
    # Two instances on one database and one Redis, as behind a load balancer.
    shared = {"rate_limit_storage": REDIS_URL}
    first, second = (create_app(make_settings(database, **shared)) for _ in range(2))
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        await first.state.service.store.save_operator(
            "op@example.org", operators.hash_password(PASSWORD)
        )

        def at(app, address):
            transport = httpx.ASGITransport(app=app, client=(address, 1234))
            return httpx.AsyncClient(transport=transport, base_url=BASE)

        async with at(first, "203.0.113.5") as one, at(second, "203.0.113.5") as other:
            for _ in range(5):
                assert (await log_in(one, password="wrong password!!")).status_code == 401
            assert (await log_in(other)).status_code == 429  # the other instance knows
    stored = b" ".join(redis_db.keys("*"))
    assert b"login" in stored and b"203.0.113" not in stored and b"op@example" not in stored

    # Redis down: the waits go on in memory rather than lapse.
    async with contextlib.AsyncExitStack() as stack:
        app = create_app(make_settings(database, rate_limit_storage="redis://127.0.0.1:1/0"))
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 1234))
        guesser = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=BASE)
        )
        for _ in range(5):
            assert (await log_in(guesser, password="wrong password!!")).status_code == 401
        assert (await log_in(guesser)).status_code == 429
    assert "login-limit storage unavailable, counting in memory" in caplog.text
