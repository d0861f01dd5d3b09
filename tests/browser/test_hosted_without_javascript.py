"""Without JavaScript, the hosted page is an ordinary form: it posts, shows its errors from the
server, and lands on the thank-you page after a 303."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("context_options", [{"java_script_enabled": False}], ids=["no-js"])
@pytest.mark.parametrize("viewport_width", [320, 1280])
def test_hosted_page_signs_without_javascript(
    page, service, network, signer, sign, screenshot, viewport_width, context_options
):
    page.goto(f"{service.url}/c/belarus?partner=demo&lang=en")
    expect(page.locator("h1")).to_have_text("Protect peaceful protesters in Belarus")
    expect(page.locator("[data-pw-count-text]")).to_have_text("785 people have taken action")
    screenshot(page, f"hosted-nojs-form-{viewport_width}")

    # Empty: the server answers 422 with the form again, its errors in place.
    with page.expect_response(f"{service.url}/c/belarus/sign") as answer:
        sign(page, None)
    assert answer.value.status == 422
    assert answer.value.request.resource_type == "document"  # a form post, not fetch()
    summary = page.locator("[data-pw-summary]")
    expect(summary).to_be_visible()
    for field in ("first_name", "last_name", "email", "country"):
        expect(page.locator(f"#pw-{field}-error")).to_be_visible()
        expect(page.locator(f"#pw-{field}")).to_have_attribute("aria-invalid", "true")
        expect(summary.locator(f'a[href="#pw-{field}"]')).to_be_visible()
    screenshot(page, f"hosted-nojs-errors-{viewport_width}")

    with page.expect_response(f"{service.url}/c/belarus/sign") as answer:
        sign(page, signer)
    assert answer.value.status == 303
    assert answer.value.header_value("location").startswith(
        "/c/belarus/thanks?partner=demo&lang=en&view=hosted&receipt="
    )
    page.wait_for_url(f"{service.url}/c/belarus/thanks*")
    expect(page.locator("h1")).to_have_text("Your name has been added")
    expect(page.locator("[data-pw-count-text]")).to_have_text("786 people have taken action")
    code = page.locator("[data-pw-withdraw-code]")
    expect(code).to_have_text(re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"))
    screenshot(page, f"hosted-nojs-thanks-{viewport_width}")
    assert service.partners() == ["demo"]

    # The reader changes their mind: the code withdraws the signature, without JavaScript too.
    typed = code.inner_text().lower().replace("-", " ")
    page.get_by_role("link", name="Withdraw a signature").click()
    page.get_by_label("Withdrawal code").fill(typed)
    screenshot(page, f"withdraw-nojs-{viewport_width}")
    with page.expect_response(f"{service.url}/c/belarus/withdraw") as answer:
        page.get_by_role("button", name="Withdraw my signature").click()
    assert answer.value.status == 200
    expect(page.get_by_role("status")).to_contain_text("Your signature has been withdrawn")
    expect(page.locator("[data-pw-count-text]")).to_have_text("785 people have taken action")
    screenshot(page, f"withdraw-done-nojs-{viewport_width}")
    # JavaScript really was off: frame.js would have signed with fetch() and no page load.
    assert [r.url for r in network.requests if r.resource_type == "fetch"] == []


@pytest.mark.parametrize("context_options", [{"java_script_enabled": False}], ids=["no-js"])
@pytest.mark.parametrize("viewport_width", [320])
def test_errors_are_in_view_after_a_refused_post_without_javascript(
    page, service, sign, viewport_width, context_options
):
    page.goto(f"{service.url}/c/belarus")
    sign(page, None)
    expect(page.locator("[data-pw-summary]")).to_be_visible()
    expect(page.locator("[data-pw-summary]")).to_be_in_viewport(timeout=2_000)
