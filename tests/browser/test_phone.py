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
