"""WCAG 2.1 AA as readers meet the petition: axe-core finds nothing serious or critical on any
reader's page, in any state, and a reader signs with the keyboard alone, in the iframe and on the
hosted page, seeing where the focus is at every step and hearing the counter change."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect


def test_axe_finds_nothing_serious_on_the_readers_pages(
    page, service, widgets, signer, sign, accessible
):
    # The demo page, with its live widget.
    page.goto(f"{service.url}/")
    expect(page.locator("div.petition-widget > iframe")).to_have_count(1)
    accessible(page, "the demo page /")

    for lang in ("en", "fr"):
        page.goto(f"{service.url}/c/belarus?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        accessible(page, f"the hosted page, lang={lang}")
        page.goto(f"{service.url}/c/belarus/thanks?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        accessible(page, f"the thank-you page, lang={lang}")
    # The hosted page with its errors (the signing itself happens in the iframe below).
    page.goto(f"{service.url}/c/belarus?lang=en")
    sign(page, None)
    expect(page.locator("[data-pw-summary]")).to_be_focused()
    accessible(page, "the hosted page with errors")

    widgets.open("counter")
    accessible(widgets.ready(), "the counter-only iframe")

    page.goto(f"{service.url}/c/belarus/card?lang=fr")
    accessible(page, "the oEmbed card")

    page.goto(f"{service.url}/c/belarus/withdraw?lang=ru")
    accessible(page, "the withdrawal page")
    page.get_by_label("Код отзыва").fill("not a code")
    page.get_by_role("button", name="Отозвать мою подпись").click()
    expect(page.locator("#pw-code")).to_be_focused()
    accessible(page, "the withdrawal page with its error")

    widgets.open("one")
    frame = widgets.ready()
    accessible(frame, "the iframe: the form")
    sign(frame, None)
    expect(frame.locator("[data-pw-summary]")).to_be_focused()
    accessible(frame, "the iframe: errors")
    sign(frame, signer)
    expect(frame.locator("[data-pw-thanks]")).to_be_focused()
    accessible(frame, "the iframe: thank-you")


# Where the focus is in one document, and how it is drawn.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!document.hasFocus() || !e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {
    name: e.id || e.getAttribute("href") || e.tagName.toLowerCase(),
    focusVisible: e.matches(":focus-visible"),
    outline: style.outlineStyle + " " + style.outlineWidth
  };
}"""

FORM_ORDER = ["pw-first_name", "pw-last_name", "pw-email", "pw-country", "pw-opt_in", "button"]


def press(page: Page, doc: Frame, key: str) -> dict[str, Any] | None:
    """Press a key (the page routes it to whichever frame has the focus); where is it now?"""
    page.keyboard.press(key)
    return doc.evaluate(FOCUSED)


def assert_visible_focus(stop: dict[str, Any] | None) -> None:
    assert stop is not None, "the focus left the petition"
    assert stop["focusVisible"], stop
    style, width = stop["outline"].split()
    assert style != "none" and float(width.removesuffix("px")) >= 2, stop


@pytest.mark.parametrize("where", ["iframe", "hosted"])
def test_a_reader_signs_with_the_keyboard_alone(page, service, widgets, signer, where):
    if where == "iframe":
        widgets.open("one")
        doc = widgets.ready()
    else:
        page.goto(f"{service.url}/c/belarus?lang=en")
        doc = page.main_frame
    count = doc.locator("[data-pw-count-text]")
    expect(count).to_have_text("785 people have taken action")

    # Tab from the top of the page: into the form, field by field, the focus always drawn.
    # In the iframe, "Read the petition" (a <details>) comes first.
    order = (["summary"] if where == "iframe" else []) + FORM_ORDER
    stops = [press(page, doc, "Tab") for _ in order]
    assert [stop and stop["name"] for stop in stops] == order
    for stop in stops:
        assert_visible_focus(stop)
    back = [press(page, doc, "Shift+Tab") for _ in FORM_ORDER[1:]]
    assert [stop and stop["name"] for stop in back] == FORM_ORDER[-2::-1]

    # Enter in an empty form: the error summary takes the focus; its first link leads to
    # the first field.
    page.keyboard.press("Enter")
    summary = doc.locator("[data-pw-summary]")
    expect(summary).to_be_focused()
    link = press(page, doc, "Tab")
    assert link is not None and link["name"] == "#pw-first_name", link
    assert_visible_focus(link)
    page.keyboard.press("Enter")
    expect(doc.locator("#pw-first_name")).to_be_focused()

    page.keyboard.type(signer.first_name)
    page.keyboard.press("Tab")
    page.keyboard.type(signer.last_name)
    page.keyboard.press("Tab")
    page.keyboard.type(signer.email)
    page.keyboard.press("Tab")
    country = doc.locator("#pw-country")
    expect(country).to_be_focused()
    page.keyboard.type("Canada")  # the select finds the country as it is typed
    expect(country).to_have_value("CA")
    page.keyboard.press("ArrowDown")
    expect(country).not_to_have_value("CA")
    page.keyboard.press("ArrowUp")
    expect(country).to_have_value("CA")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(doc.locator("#pw-opt_in")).to_be_checked()

    # The counter is a polite live region, and the count changes inside it (a node put in
    # its place would not be announced).
    expect(count).to_have_attribute("aria-live", "polite")
    count.evaluate("e => { e.pwSameNode = true; }")
    button = press(page, doc, "Tab")
    assert button is not None and button["name"] == "button", button
    page.keyboard.press("Enter")
    thanks = doc.locator("[data-pw-thanks]")
    expect(thanks).to_be_visible()
    expect(thanks).to_be_focused()
    expect(count).to_have_text("786 people have taken action")
    assert count.evaluate("e => e.pwSameNode === true")
    assert service.partners() == (["demo"] if where == "iframe" else [None])
