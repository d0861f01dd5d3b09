"""An operator who makes a mistake sees it: the error summary at the top takes the focus and
names the field by its label; an invalidation asks first, saying how many it would uncount."""

from __future__ import annotations

from playwright.sync_api import expect

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
