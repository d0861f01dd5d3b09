"""An operator who makes a mistake sees it: the error summary at the top takes the focus and
names the field by its label; an invalidation asks first, saying how many it would uncount."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import fill_and_submit
from tests.browser.test_admin_passkeys import add_operator, log_in


def test_a_failed_save_takes_the_operator_to_the_error(page, service, screenshot):
    add_operator(service)
    log_in(page, service.url)
    page.goto(f"{service.url}/admin/campaigns/belarus")
    page.fill("#f-goal", "0")
    page.locator("#f-goal").press("Enter")
    summary = page.locator("#pa-problem")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Goal (empty for none): must be at least 1")
    expect(summary).to_be_in_viewport()
    screenshot(page, "admin-save-error")
    summary.get_by_role("link").click()
    expect(page.locator("#f-goal")).to_be_focused()


def test_invalidate_says_how_many_before_acting(page, service, screenshot):
    add_operator(service)
    log_in(page, service.url)
    page.goto(f"{service.url}/admin/campaigns/belarus")
    page.fill("#f-inv-partner", "bots")
    page.get_by_role("button", name="Invalidate matching signatures").click()
    expect(page.locator("h1")).to_have_text("Invalidate 0 signature(s)?")
    expect(page.get_by_text("No signature matches: there is nothing to do.")).to_be_visible()
    screenshot(page, "admin-invalidate-preview")


def test_a_partners_french_snippet_is_copied_pasted_and_signs(
    page, context, service, partner, signer, screenshot, accessible
):
    """As a campaigner would: pick the partner and French, copy the snippet, paste it into a
    page, and a reader signs through it."""
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    add_operator(service)
    log_in(page, service.url)
    page.goto(f"{service.url}/admin/campaigns/belarus")
    page.select_option("#f-sn-partner", "partner-site")
    page.select_option("#f-sn-lang", "fr")
    page.get_by_role("button", name="Show its codes").click()
    page.get_by_role("button", name="Copy the snippet").click()
    expect(page.locator("[data-pa-copied]")).to_have_text("Copied: the snippet.")
    pasted = page.evaluate("() => navigator.clipboard.readText()")
    assert 'data-partner="partner-site" data-lang="fr"' in pasted
    accessible(page, "the campaign's admin page")
    page.set_viewport_size({"width": 375, "height": 800})
    screenshot(page, "admin-campaign-375")

    # Pasted into a partner's page: the petition in French, and a signature through it.
    reader = context.new_page()
    reader.goto(partner.url("one"))  # any page of the partner's origin
    reader.evaluate("html => { document.body.innerHTML = html; }", pasted)
    reader.add_script_tag(url=f"{service.url}/embed.js")
    frame_element = reader.locator("div.petition-widget > iframe")
    expect(frame_element).to_have_attribute(
        "src", f"{service.url}/c/belarus/embed?partner=partner-site&lang=fr"
    )
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    expect(frame.locator("h1")).to_have_text("Protégez les manifestants pacifiques au Bélarus")
    fill_and_submit(frame, signer)
    expect(frame.locator("[data-pw-count-text]")).to_have_text("786 personnes ont signé")
    assert service.partners() == ["partner-site"]


ADMIN_PAGES = (
    "/admin", "/admin/campaigns/belarus", "/admin/campaigns/new",
    "/admin/campaigns/belarus/translations/fr", "/admin/partners", "/admin/signers",
    "/admin/audit", "/admin/decrypt", "/admin/sessions", "/admin/passkeys",
)  # fmt: skip


def test_every_admin_page_passes_axe_and_fits_a_phone(page, service, accessible):
    add_operator(service)
    log_in(page, service.url)
    page.wait_for_url("**/admin")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ADMIN_PAGES:
            page.goto(service.url + path)
            accessible(page, f"{path} at {width} px")
            # Nothing runs off the side: only tables scroll, inside themselves.
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= width, (path, width, wide)
