"""The embedded widget's three states at a phone's and a desktop's width, saved as screenshots
under test-artifacts/screenshots/ for people to look at, and checked for what matters."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

FIELDS = ("first_name", "last_name", "email", "country")


@pytest.mark.parametrize("viewport_width", [320, 1280])
def test_form_errors_and_thanks_in_the_iframe(
    widget_page, viewport_width, signer, sign, screenshot
):
    page = widget_page.page
    frame = widget_page.ready()
    form_state = widget_page.wait_fitted()
    screenshot(page, f"embed-form-{viewport_width}")
    widget_page.wait_fitted()  # settled again at the viewport's own size

    # Submitted empty: every missing field says so, the summary links to each and has focus.
    sign(frame, None)
    summary = frame.locator("[data-pw-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    for field in FIELDS:
        expect(frame.locator(f"#pw-{field}-error")).to_be_visible()
        expect(frame.locator(f"#pw-{field}-error")).not_to_be_empty()
        expect(frame.locator(f"#pw-{field}")).to_have_attribute("aria-invalid", "true")
        expect(summary.locator(f'a[href="#pw-{field}"]')).to_be_visible()
    # The errors made the form taller: the iframe grew with it, no inner scrollbar.
    error_state = widget_page.wait_fitted()
    assert error_state["iframeHeight"] > form_state["iframeHeight"]
    assert error_state["scrollHeight"] <= error_state["clientHeight"]
    # A link in the summary takes the reader to the field.
    summary.locator('a[href="#pw-email"]').click()
    expect(frame.locator("#pw-email")).to_be_focused()
    screenshot(page, f"embed-errors-{viewport_width}")

    sign(frame, signer)
    expect(frame.locator("[data-pw-thanks]")).to_be_visible()
    expect(frame.locator("[data-pw-thanks]")).to_be_focused()
    expect(widget_page.count_text()).to_have_text("786 people have taken action")
    # Errors from the first attempt are gone from the page the reader now sees.
    expect(summary).to_be_hidden()
    # The thank-you (code, share links) fits the iframe, which followed its height.
    thanks_state = widget_page.wait_fitted()
    assert thanks_state["iframeHeight"] != form_state["iframeHeight"]
    assert thanks_state["scrollHeight"] <= thanks_state["clientHeight"]
    expect(frame.locator("[data-pw-withdraw-code]")).to_be_visible()
    screenshot(page, f"embed-thanks-{viewport_width}")
