"""Passkeys as operators' second factor, with a software authenticator (tests/softkey.py): once
an operator has one, the password alone no longer logs in; a recovery code works once; the
server's owner can reset a lost key; a setting can require passkeys of everyone. The same in
Chromium with its virtual authenticator: tests/browser/test_admin_passkeys.py."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE
from tests.softkey import SoftKey
from tests.test_admin import CSRF_RE, PASSWORD, add_operator
from tests.test_operator_accounts import app_at, form_post, log_in  # noqa: F401 - a fixture
from widget import operations

OPTIONS_RE = re.compile(
    r'<script type="application/json" id="pw-passkey-options"[^>]*>(.*?)</script>', re.S
)
CODE_RE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")
ROOT = Path(__file__).resolve().parent.parent


def options_of(page) -> dict:
    return json.loads(html.unescape(OPTIONS_RE.search(page.text).group(1)))


async def enrol(browser, key: SoftKey, name: str = "My phone") -> list[str]:
    """Add the key on the passkeys page; the recovery codes shown (on the first only)."""
    page = await browser.get("/admin/passkeys")
    assert page.status_code == 200
    credential = key.create(options_of(page), BASE)
    token = CSRF_RE.search(page.text).group(1)
    added = await browser.post(
        "/admin/passkeys", data={"csrf": token, "credential": credential, "name": name}
    )
    assert added.status_code == 200, added.text
    assert name in added.text
    return CODE_RE.findall(added.text)


async def second_step(browser, key: SoftKey | None = None, code: str | None = None):
    page = await browser.get("/admin/login/passkey")
    assert page.status_code == 200
    token = CSRF_RE.search(page.text).group(1)
    data = {"csrf": token}
    if key is not None:
        data["credential"] = key.get(options_of(page), BASE)
    if code is not None:
        data["recovery_code"] = code
    return await browser.post("/admin/login/passkey", data=data)


async def test_with_a_passkey_the_password_alone_does_not_log_in(app_at):  # noqa: F811
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser, key = at("192.0.2.1"), SoftKey()
        await log_in(browser)
        codes = await enrol(browser, key)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(re.fullmatch(r"([a-z2-9]{4}-){4}[a-z2-9]{4}", c) for c in codes)
        stored = await store.passkeys("op@example.org")
        assert [k.name for k in stored] == ["My phone"]
        assert codes[0] not in repr(await store.audit_log())
        await form_post(browser, "/admin/logout")

        thief = at("198.51.100.9")
        answer = await log_in(thief)  # the right password
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/admin/login/passkey")
        assert (await thief.get("/admin")).status_code == 303  # not logged in
        assert await store.sessions() == []
        # Another authenticator's answer is refused.
        refused = await second_step(thief, SoftKey())
        assert refused.status_code == 401 and "not one of this account" in refused.text
        assert await store.sessions() == []

        # The owner, with the passkey.
        assert (await log_in(browser)).status_code == 303
        done = await second_step(browser, key)
        assert done.status_code == 303 and done.headers["location"] == "/admin"
        assert (await browser.get("/admin")).status_code == 200
        assert (await store.passkeys("op@example.org"))[0].last_used is not None


async def test_a_recovery_code_works_once(app_at):  # noqa: F811
    async with app_at() as (app, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        codes = await enrol(browser, SoftKey())
        await form_post(browser, "/admin/logout")

        await log_in(browser)
        wrong = await second_step(browser, code="aaaa-bbbb-cccc-dddd-eeee")
        assert wrong.status_code == 401 and "not valid" in wrong.text
        used = await second_step(browser, code=codes[3].upper().replace("-", " "))
        assert used.status_code == 303
        assert (await browser.get("/admin")).status_code == 200
        await form_post(browser, "/admin/logout")
        await log_in(browser)
        again = await second_step(browser, code=codes[3])
        assert again.status_code == 401
        assert await app.state.service.store.recovery_codes_left("op@example.org") == 9
        home_log = [e.action for e in await app.state.service.store.audit_log()]
        assert "operator.recovery-code" in home_log


async def test_the_owner_resets_a_lost_passkey(app_at, capsys):  # noqa: F811
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        await enrol(browser, SoftKey())
        removed = await operations.reset_second_factor(store, "owner", "op@example.org")
        assert removed == 1
        assert (await browser.get("/admin")).status_code == 303  # their sessions ended
        fresh = at("192.0.2.1")
        assert (await log_in(fresh)).headers["location"] == "/admin"  # password alone again
        assert await store.recovery_codes_left("op@example.org") == 0
        with pytest.raises(operations.OperationError, match="no operator"):
            await operations.reset_second_factor(store, "owner", "nobody@example.org")


async def test_a_setting_requires_a_passkey_of_every_operator(app_at):  # noqa: F811
    async with app_at(admin_require_passkey=True) as (_, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        await log_in(browser)
        for path in ("/admin", "/admin/campaigns/belarus", "/admin/audit"):
            sent = await browser.get(path)
            assert sent.status_code == 303 and sent.headers["location"] == "/admin/passkeys"
        assert (await browser.post("/admin/campaigns/belarus/export/delivery")).status_code == 401
        page = await browser.get("/admin/passkeys")
        assert "asks every operator to use a passkey" in page.text
        await enrol(browser, SoftKey())
        assert (await browser.get("/admin")).status_code == 200


async def test_enrolling_and_removing_need_a_fresh_password(app_at):  # noqa: F811
    async with app_at() as (app, at):
        store = app.state.service.store
        await add_operator(at("192.0.2.1"))
        browser, key = at("192.0.2.1"), SoftKey()
        await log_in(browser)
        await enrol(browser, key)
        async with store.backend.transaction() as tx:
            await tx.execute("UPDATE admin_sessions SET verified_at = ?", "2000-01-01T00:00:00Z")
        credential_id = (await store.passkeys("op@example.org"))[0].credential_id
        asked = await form_post(browser, "/admin/passkeys/remove", {"credential_id": credential_id})
        assert 'name="confirm_password"' in asked.text
        assert len(await store.passkeys("op@example.org")) == 1
        page = await browser.get("/admin/passkeys")
        second = SoftKey().create(options_of(page), BASE)
        token = CSRF_RE.search(page.text).group(1)
        asked = await browser.post("/admin/passkeys", data={"csrf": token, "credential": second})
        assert 'name="confirm_password"' in asked.text
        confirmed = await browser.post(
            "/admin/passkeys",
            data={"csrf": token, "credential": second, "name": "Key 2",
                  "confirm_password": PASSWORD},
        )  # fmt: skip
        assert confirmed.status_code == 200 and "Key 2" in confirmed.text
        assert not CODE_RE.findall(confirmed.text)  # codes only with the first passkey
        assert len(await store.passkeys("op@example.org")) == 2


async def test_a_ceremony_expires_and_belongs_to_its_operator(app_at):  # noqa: F811
    async with app_at() as (_, at):
        await add_operator(at("192.0.2.1"))
        browser = at("192.0.2.1")
        # No password given: the passkey step sends back to the login page.
        assert (await browser.get("/admin/login/passkey")).headers["location"] == "/admin/login"
        await log_in(browser)
        page = await browser.get("/admin/passkeys")
        credential = SoftKey().create(options_of(page), BASE)
        token = CSRF_RE.search(page.text).group(1)
        browser.cookies.delete("pw_enrol", path="/admin/passkeys")
        refused = await browser.post(
            "/admin/passkeys", data={"csrf": token, "credential": credential}
        )
        assert refused.status_code == 422 and "expired" in refused.text


def test_py_webauthn_is_loaded_by_a_starting_server_not_by_every_command(tmp_path):
    """py_webauthn (with cryptography and OpenSSL) was a third of every CLI command's start:
    importing the app and the CLI leaves it out; a server loads it as it starts, so that the
    first operator's login does not hold up readers while it is imported."""
    script = f"""
import asyncio, sys
import widget.app, widget.cli
print("webauthn" in sys.modules)
from tests.conftest import make_settings
app = widget.app.create_app(make_settings({str(tmp_path / "p.db")!r}))
async def start():
    async with app.router.lifespan_context(app):
        print("webauthn" in sys.modules)
asyncio.run(start())
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["False", "True"]
