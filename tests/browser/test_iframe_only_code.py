"""The iframe-only code (for a CMS that takes an iframe but no script): its height is fixed in
the partner's page for good, so the document inside must fit it whatever the campaign's
settings become: a seven-digit count, a goal, a count published hourly, in every language,
on a narrow phone. Were it too short, the goal or the campaign's link would be cut off with no
way to scroll to it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Service
from widget.views.admin_campaigns import COUNTER_HEIGHT, FORM_HEIGHT

LANGUAGES = ("en", "fr", "be", "ru")


def campaign_set(service: Service, field: str, value: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITION_WIDGET_")}
    command = [sys.executable, "-m", "widget", "campaign", "set", "belarus", field, value]
    command += ["--database", str(service.database)]
    subprocess.run(command, env=env, check=True, capture_output=True)


def campaign_changed(service: Service, browser: Browser, changes: dict[str, str]) -> None:
    """Set the campaign's fields, and wait until the service shows them (it learns of them
    within its cache's lifetime): until the counter says what `shown` holds."""
    for field, value in changes.items():
        campaign_set(service, field, value)
    shown = ["Updated once an hour"] if changes.get("count_every_hours") == "1" else []
    shown += ["765,433 more to reach 2,000,000"] if "goal" in changes else []
    page = browser.new_page()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.goto(f"{service.url}/c/belarus/counter?lang=en")
        if all(text in page.content() for text in shown):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the service did not take the campaign's new settings")
    page.close()


def the_longest_counter(service: Service, browser: Browser) -> None:
    """The campaign at its tallest: 1,234,567 of a goal of 2,000,000, updated hourly."""
    changes = {"counter_offset": "1234567", "goal": "2000000", "count_every_hours": "1"}
    campaign_changed(service, browser, changes)


def test_the_counters_fixed_height_fits_it_in_every_language_at_any_width(service, browser):
    the_longest_counter(service, browser)
    for width in (300, 320, 360, 480, 768, 1280):
        page = browser.new_page(viewport={"width": width, "height": COUNTER_HEIGHT})
        for lang in LANGUAGES:
            page.goto(f"{service.url}/c/belarus/counter?lang={lang}")
            measured = page.evaluate(
                """() => {
                    const title = document.querySelector('.pw-more');
                    const goal = document.querySelector('[data-pw-goal-text]');
                    return {
                        height: document.documentElement.getBoundingClientRect().height,
                        scroll: document.documentElement.scrollHeight,
                        titleLines: Math.round(title.clientHeight
                            / parseFloat(getComputedStyle(title).lineHeight)),
                        goal: goal.getBoundingClientRect().bottom,
                    };
                }"""
            )
            where = f"{lang} at {width} px: {measured}"
            assert measured["height"] <= COUNTER_HEIGHT, where
            assert measured["scroll"] <= COUNTER_HEIGHT, where
            assert measured["goal"] <= COUNTER_HEIGHT, where
            assert measured["titleLines"] == 1, where  # the title ends in "…" rather than wrap
        page.close()


def test_the_forms_fixed_height_fits_it_on_a_phone_in_every_language(service, browser):
    """The README's promise: the form fits the iframe-only code's height on a 360 px phone
    (error messages, after a failed try, may scroll inside it)."""
    the_longest_counter(service, browser)
    page = browser.new_page(viewport={"width": 360, "height": 400})
    for lang in LANGUAGES:
        page.goto(f"{service.url}/c/belarus/embed?lang={lang}")
        height = page.evaluate("() => document.documentElement.getBoundingClientRect().height")
        assert height <= FORM_HEIGHT, (lang, height)
    page.close()


def test_the_shipped_count_still_fits_a_code_pasted_before(service, browser):
    """Codes pasted before this height was raised are 90 px tall, and their partners will
    not paste them again: the shipped campaign (no goal, updated hourly), whose note shares
    the link's line, fits them at any width, its count on two lines on a phone."""
    campaign_changed(service, browser, {"count_every_hours": "1"})
    page = browser.new_page()
    for width in (300, 320, 375, 768, 1280):
        page.set_viewport_size({"width": width, "height": 90})
        for lang in LANGUAGES:
            page.goto(f"{service.url}/c/belarus/counter?lang={lang}")
            height = page.evaluate("() => document.documentElement.scrollHeight")
            assert height <= 90, (lang, width, height)
            assert page.locator(".pw-more .pw-count-note").count() == 1
    page.close()


def test_the_oembed_cards_height_fits_it_at_the_width_asked(service, browser):
    """A consumer of oEmbed that runs no script shows the card at the height answered for the
    width it asked: from 200 to 600 px, the card fits, in every language, with a seven-digit
    count, a goal and the hourly note."""
    the_longest_counter(service, browser)
    hosted = f"{service.url}/c/belarus"
    for width in range(200, 601, 20):
        answer = httpx.get(f"{service.url}/oembed", params={"url": hosted, "maxwidth": width})
        assert answer.json()["width"] == width
        height = answer.json()["height"]
        page = browser.new_page(viewport={"width": width, "height": height})
        for lang in LANGUAGES:
            page.goto(f"{service.url}/c/belarus/card?lang={lang}")
            needed = page.evaluate("() => document.documentElement.scrollHeight")
            assert needed <= height, (lang, width, needed, height)
        page.close()
