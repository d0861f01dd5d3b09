"""An operator adds a passkey in Chromium (its virtual authenticator stands in for a phone or
a security key), and from then on the password alone no longer logs in: the passkey does.
The pages pass axe. Screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations

PASSWORD = "a long enough password for the browser"


def add_operator(service) -> None:
    subprocess.run(
        [sys.executable, "-m", "widget", "operator", "add", "op@example.org", "--password-stdin",
         "--database", str(service.database)],
        input=(PASSWORD + "\n").encode(), check=True, capture_output=True,
        cwd=service.database.parent,
    )  # fmt: skip


def log_in(page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.fill("#f-email", "op@example.org")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")


def test_a_passkey_is_then_needed_to_log_in(page, context, service, screenshot):
    add_operator(service)
    # WebAuthn needs a secure context and a host name: localhost is both.
    base = service.url.replace("127.0.0.1", "localhost")
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
    }})["authenticatorId"]  # fmt: skip

    log_in(page, base)
    expect(page.locator("h1")).to_have_text("Campaigns")
    page.goto(f"{base}/admin/passkeys")
    expect(page.locator("h1")).to_have_text("Your passkeys")
    assert not [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    page.fill("#f-name", "Virtual key")
    page.click("#pw-passkey-form button[type=submit]")
    expect(page.locator(".pa-ok")).to_have_text("Added the passkey “Virtual key”.")
    expect(page.locator(".pa-code-list li")).to_have_count(10)
    screenshot(page, "admin-passkey-added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1

    page.click("header form button[type=submit]")  # log out
    expect(page.locator("h1")).to_have_text("Log in")
    log_in(page, base)
    expect(page.locator("h1")).to_have_text("Your passkey")
    screenshot(page, "admin-passkey-login")
    assert not [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    # The password was right, and still: no admin without the passkey.
    page.goto(f"{base}/admin")
    expect(page.locator("h1")).to_have_text("Log in")

    log_in(page, base)
    expect(page.locator("h1")).to_have_text("Your passkey")
    page.click("#pw-passkey-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Campaigns")
    page.goto(f"{base}/admin/passkeys")
    expect(page.locator("table.pa-table tbody tr td").nth(2)).not_to_have_text("never")
