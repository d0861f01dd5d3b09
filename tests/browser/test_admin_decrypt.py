"""An operator opens a sealed export in the browser, with the private key moved off the
server: the page decrypts locally with the vendored libsodium, offers the opened CSV, and
sends nothing (every request is recorded; none carries the key or a name)."""

from __future__ import annotations

import base64
import shutil

from playwright.sync_api import expect

from tests.browser.conftest import Signer, fill_and_submit, save_screenshot
from tests.browser.test_admin_passkeys import add_operator, log_in
from widget import sealing


def test_a_sealed_export_opens_in_the_browser_and_nothing_leaves_it(
    page, service, network, tmp_path, accessible
):
    reader = Signer(first_name="Ада", last_name='O\'Lovelace, "Jr"', email="ada@example.org")
    page.goto(f"{service.url}/c/belarus?lang=en")
    fill_and_submit(page, reader)
    expect(page.locator("[data-pw-thanks]")).to_be_visible()

    # The private key off the server, as the README asks: only the operator's copy is left.
    keys = service.database.parent / "widget.keys"
    private = tmp_path / "operator-private.key"
    shutil.move(keys / "operator-private.key", private)
    secret = private.read_text().strip()

    add_operator(service)
    log_in(page, service.url)
    page.goto(f"{service.url}/admin/campaigns/belarus")
    with page.expect_download() as download:
        page.get_by_role("button", name="Operator export").click()
    sealed = tmp_path / "sealed.csv"
    download.value.save_as(sealed)
    assert "Ада" not in sealed.read_text(encoding="utf-8-sig")  # sealed on the server
    # A row sealed the way signatures were before windows (a sealed box) opens too.
    older = sealing.Sealer(sealing.public_key((keys / "operator-public.key").read_text()))
    personal = {"first_name": "Янка", "last_name": "Купала", "email": "y@example.org"}
    box = base64.b64encode(older.seal_personal({"postal_code": "", **personal})).decode()
    with sealed.open("a", encoding="utf-8", newline="") as out:
        out.write(f"{box},BY,no,,no,2026-01-01T00:00:00Z\r\n")

    page.goto(f"{service.url}/admin/decrypt")
    loaded = len(network.requests)
    page.set_input_files("#f-export", str(sealed))
    page.set_input_files("#f-key", str(private))
    page.get_by_role("button", name="Open the export here").click()
    expect(page.locator("#pa-decrypt-status")).to_have_text(
        "Opened 2 signature(s), in this browser only."
    )
    expect(page.locator("#pa-decrypt-rows td").first).to_have_text("Ада")
    save_screenshot(page, "admin-decrypt")
    accessible(page, "the decrypt page, opened")
    with page.expect_download() as opened:
        page.get_by_role("link", name="Save the opened file").click()
    plain = tmp_path / "opened.csv"
    opened.value.save_as(plain)
    text = plain.read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == (
        "first_name,last_name,email,postal_code,country,opt_in,partner,partner_opt_in,signed_at"
    )
    assert text[1].startswith('Ада,"O\'Lovelace, ""Jr""",ada@example.org,,CA,yes,,no,')
    assert text[2] == "Янка,Купала,y@example.org,,BY,no,,no,2026-01-01T00:00:00Z"

    # Nothing was asked of the network once the page had loaded, and nothing ever carried
    # the key or a name.
    after = [r.url for r in network.requests[loaded:] if not r.url.startswith(("blob:", "data:"))]
    assert after == [], after
    for request in network.requests:
        body = request.post_data or ""
        assert secret not in request.url and secret not in body
        assert "Ада" not in request.url and "Ада" not in body

    # The wrong key says so, and opens nothing.
    other = tmp_path / "other.key"
    other.write_text("A" * 43 + "=\n")
    page.set_input_files("#f-key", str(other))
    page.get_by_role("button", name="Open the export here").click()
    problem = page.locator("#pa-decrypt-error")
    expect(problem).to_contain_text("does not open the export")
    expect(problem).to_be_focused()
    expect(page.locator("#pa-decrypt-result")).to_be_hidden()

    # Rows sealed to an earlier key (the server was given a new public key since): the current
    # key alone opens the rows of its time and says how many are left, and both key files chosen
    # together open every row.
    old_private, old_public = sealing.generate_keypair()
    earlier = sealing.Sealer(sealing.public_key(old_public))
    box = base64.b64encode(earlier.seal_personal({"postal_code": "", **personal})).decode()
    with sealed.open("a", encoding="utf-8", newline="") as out:
        out.write(f"{box},BY,no,,no,2025-12-01T00:00:00Z\r\n")
    page.set_input_files("#f-export", str(sealed))
    page.set_input_files("#f-key", str(private))
    page.get_by_role("button", name="Open the export here").click()
    expect(problem).to_have_text(
        "This private key opens 2 of the 3 signature(s) here; the rest (1) were sealed to another"
        " public key (the server was given a new one): choose that private key too. Nothing was"
        " opened."
    )
    expect(page.locator("#pa-decrypt-result")).to_be_hidden()
    page.set_input_files("#f-key", [str(private), str(other)])
    page.get_by_role("button", name="Open the export here").click()
    expect(problem).to_contain_text("These private keys open 2 of the 3 signature(s) here")
    page.set_input_files("#f-key", [str(other), str(other)])
    page.get_by_role("button", name="Open the export here").click()
    expect(problem).to_have_text(
        "None of these private keys opens the export (wrong keys?). Nothing was opened."
    )
    old_key = tmp_path / "old-private.key"
    old_key.write_text(old_private + "\n")
    page.set_input_files("#f-key", [str(private), str(old_key)])
    page.get_by_role("button", name="Open the export here").click()
    expect(page.locator("#pa-decrypt-status")).to_have_text(
        "Opened 3 signature(s), in this browser only."
    )
    expect(page.locator("#pa-decrypt-rows tr").nth(2).locator("td").first).to_have_text("Янка")
