"""The dark theme: chosen by the snippet (data-theme="dark"), or on the hosted page following
the reader's system; axe finds nothing serious in it, and the theme colour keeps its contrast."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import save_screenshot

BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"


@pytest.mark.shared_service
@pytest.mark.parametrize("width", [375, 1280])
def test_the_hosted_page_follows_a_dark_system(page, service, accessible, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.emulate_media(color_scheme="dark")
    page.goto(f"{service.url}/c/belarus?lang=ru")
    assert page.evaluate(BACKGROUND) == "rgb(20, 20, 20)"
    accessible(page, "the hosted page, dark")
    save_screenshot(page, f"hosted-dark-ru-{width}")
    page.emulate_media(color_scheme="light")
    assert page.evaluate(BACKGROUND) == "rgb(255, 255, 255)"


@pytest.mark.shared_service
def test_an_iframe_is_light_unless_its_snippet_says_dark(page, service, accessible):
    page.emulate_media(color_scheme="dark")  # a partner's light page, a reader's dark system
    page.goto(f"{service.url}/c/belarus/embed")
    assert page.evaluate(BACKGROUND) == "rgb(255, 255, 255)"
    page.goto(f"{service.url}/c/belarus/embed?theme=dark")
    assert page.evaluate(BACKGROUND) == "rgb(20, 20, 20)"
    accessible(page, "the iframe, dark")
    page.locator("details.pw-about > summary").click()
    expect(page.locator(".pw-about ul li").first).to_be_visible()
    save_screenshot(page, "embed-dark-en")


@pytest.mark.parametrize("snippet", ["one"])
def test_the_snippet_passes_its_theme_to_the_iframe(page, partner, service, snippet):
    page.goto(partner.url("one"))
    frame = page.locator("div.petition-widget > iframe")
    expect(frame).to_have_attribute("src", f"{service.url}/c/belarus/embed?partner=demo&lang=en")
    page.evaluate(
        """url => {
          const link = document.createElement("a");
          link.href = url + "/c/belarus"; link.dataset.campaign = "belarus";
          link.dataset.theme = "dark"; link.textContent = "Sign";
          document.body.appendChild(link);
          const script = document.createElement("script");
          script.src = url + "/embed.js"; document.body.appendChild(script);
        }""",
        service.url,
    )
    expect(page.locator("div.petition-widget > iframe").nth(1)).to_have_attribute(
        "src", f"{service.url}/c/belarus/embed?theme=dark"
    )
