"""On a phone (375 by 667 px), the hosted page shows the count and a way to sign before any
scrolling, in every language; the link leads to the form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

PHONE = {"width": 375, "height": 667}


@pytest.mark.shared_service
@pytest.mark.parametrize(
    ("lang", "count", "sign_now"),
    [("en", "785 people have taken action", "Sign now"),
     ("fr", "785 personnes ont signé", "Signez maintenant"),
     ("be", "785 чалавек падпісалі петыцыю", "Падпісаць зараз"),
     ("ru", "785 человек подписали петицию", "Подписать сейчас")],
)  # fmt: skip
def test_the_count_and_a_way_to_sign_come_first(page, service, lang, count, sign_now):
    page.set_viewport_size(PHONE)
    page.goto(f"{service.url}/c/belarus?lang={lang}")
    jump = page.locator(".pw-jump")
    expect(jump).to_contain_text(count)
    link = jump.get_by_role("link", name=sign_now)
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"hosted-phone-{lang}.png"))  # the first screen
    link.click()
    expect(page.locator("#pw-first_name")).to_be_in_viewport()


@pytest.mark.shared_service
def test_on_a_wide_screen_the_form_is_beside_the_story(page, service):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{service.url}/c/belarus")
    expect(page.locator(".pw-jump")).to_be_hidden()
    expect(page.locator("#pw-first_name")).to_be_in_viewport()


@pytest.mark.shared_service
@pytest.mark.parametrize("lang", ["en", "fr", "be", "ru"])
def test_the_iframes_sign_button_is_within_700_px_on_a_phone(page, service, lang):
    """The Belarus campaign, 375 px wide: first and last name side by side, the tagline in
    "Read the petition", and the button reached without scrolling a 700 px screen."""
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"{service.url}/c/belarus/embed?lang={lang}")
    first, last = (
        page.locator(f"#pw-{name}").bounding_box() for name in ("first_name", "last_name")
    )
    assert first is not None and last is not None and first["y"] == last["y"]
    button = page.locator("form[data-pw-form] button[type=submit]").bounding_box()
    assert button is not None and button["y"] + button["height"] <= 700, button
    expect(page.locator(".pw-card > .pw-tagline")).to_be_hidden()
    page.locator("details.pw-about > summary").click()
    expect(page.locator(".pw-about-tagline")).to_be_visible()
