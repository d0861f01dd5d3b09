"""In French, everything the reader reads is French: labels, the counter, the errors and the
thanks, in the iframe (data-lang="fr") and on the hosted page (?lang=fr). Screenshots of each
state at a phone's and a desktop's width go under test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect

# From widget/locales/fr/LC_MESSAGES/messages.po.
LABELS = {"first_name": "Prénom", "last_name": "Nom", "email": "Courriel", "country": "Pays"}
ERRORS = {
    "first_name": "Saisissez votre prénom.",
    "last_name": "Saisissez votre nom.",
    "email": "Saisissez votre adresse courriel.",
    "country": "Choisissez votre pays.",
}
WIDTHS = (320, 1280)


def assert_french_form(doc: Frame) -> None:
    expect(doc.locator("html")).to_have_attribute("lang", "fr")
    expect(doc.locator("[data-pw-count-text]")).to_have_text("785 personnes ont signé")
    for name, label in LABELS.items():
        expect(doc.locator(f"label[for=pw-{name}]")).to_have_text(label)
    expect(doc.locator("#pw-country option").first).to_have_text("Choisissez votre pays")
    expect(doc.locator("#pw-country option[value=DE]")).to_have_text("Allemagne")
    expect(doc.locator("form[data-pw-form] button[type=submit]")).to_have_text("Signez la pétition")


def assert_french_errors(doc: Frame) -> None:
    summary = doc.locator("[data-pw-summary]")
    expect(summary).to_be_focused()
    expect(summary.locator("h2")).to_have_text("Il y a un problème")
    for name, message in ERRORS.items():
        expect(doc.locator(f"#pw-{name}-error")).to_have_text(message)
        expect(summary.locator(f'a[href="#pw-{name}"]')).to_have_text(message)


def assert_french_thanks(doc: Frame) -> None:
    thanks = doc.locator("[data-pw-thanks]")
    expect(thanks).to_be_focused()
    expect(thanks.locator("h2")).to_have_text("Votre nom a été ajouté")
    expect(thanks.locator(".pw-share-heading")).to_have_text("Partagez la pétition")
    expect(doc.locator("[data-pw-count-text]")).to_have_text("786 personnes ont signé")


def screenshots(
    page: Page, screenshot: Any, name: str, fit: Callable[[], Any] | None = None
) -> None:
    """The page as it is now, at each width; `fit` waits for the widget to fit its content."""
    height = (page.viewport_size or {})["height"]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        if fit is not None:
            fit()
        screenshot(page, f"{name}-{width}")


@pytest.mark.parametrize("snippet", ["fr"])
def test_the_iframe_in_french(widget_page, snippet, signer, sign, screenshot, accessible):
    page, fit = widget_page.page, widget_page.wait_fitted
    frame = widget_page.ready()
    assert_french_form(frame)
    accessible(frame, "the French iframe: the form")
    screenshots(page, screenshot, "embed-fr-form", fit)

    sign(frame, None)
    assert_french_errors(frame)
    accessible(frame, "the French iframe: errors")
    screenshots(page, screenshot, "embed-fr-errors", fit)

    sign(frame, signer)
    assert_french_thanks(frame)
    accessible(frame, "the French iframe: thank-you")
    screenshots(page, screenshot, "embed-fr-thanks", fit)


def test_the_hosted_page_in_french(page, service, signer, sign, screenshot):
    page.goto(f"{service.url}/c/belarus?lang=fr")
    expect(page.locator("h1")).to_have_text("Protégez les manifestants pacifiques au Bélarus")
    assert_french_form(page.main_frame)
    screenshots(page, screenshot, "hosted-fr-form")

    sign(page, None)
    assert_french_errors(page.main_frame)
    screenshots(page, screenshot, "hosted-fr-errors")

    sign(page, signer)
    assert_french_thanks(page.main_frame)
    screenshots(page, screenshot, "hosted-fr-thanks")
