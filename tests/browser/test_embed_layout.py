"""The iframe on a partner page: it appears, it is exactly as tall as its content, and the
fallback link stays when the iframe never reports in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Route, expect

NARROW, WIDE = 320, 1280
INITIAL_HEIGHT = {"one": 640, "fr": 640, "counter": 90}  # embed.js's height before a report


def assert_fitted(measured: dict[str, float]) -> None:
    # The iframe is as tall as the document inside it: no gap below the content...
    assert abs(measured["iframeHeight"] - measured["contentHeight"]) <= 1, measured
    # ...and no inner scrollbar: nothing to scroll vertically, no scrollbar taking width,
    # and nothing overflowing sideways.
    assert measured["scrollHeight"] <= measured["clientHeight"], measured
    assert measured["innerWidth"] == measured["clientWidth"], measured
    assert measured["scrollWidth"] <= measured["clientWidth"], measured


@pytest.mark.shared_service
@pytest.mark.parametrize("snippet", ["one", "counter", "fr"])
@pytest.mark.parametrize("viewport_width", [NARROW, WIDE])
def test_iframe_resizes_to_its_content(widget_page, viewport_width, snippet, service, screenshot):
    mode = "counter" if snippet == "counter" else "embed"
    iframe = widget_page.iframe()
    src = iframe.get_attribute("src")
    assert src is not None
    assert src.startswith(f"{service.url}/c/belarus/{mode}"), src
    assert ("lang=fr" in src) == (snippet == "fr")

    first = widget_page.wait_fitted()
    assert_fitted(first)
    # The iframe spans its container: the partner's page decides the width.
    box_width = widget_page.box().evaluate("e => e.getBoundingClientRect().width")
    assert abs(first["innerWidth"] - box_width) <= 1
    if snippet == "fr":
        frame = widget_page.frame()
        assert frame.evaluate("() => document.documentElement.lang") == "fr"
        expect(frame.locator("button[type=submit]")).not_to_have_text("Add your name")
    screenshot(widget_page.page, f"layout-{snippet}-{viewport_width}")

    # The reader turns the phone, or resizes the window: the iframe follows its content.
    other = WIDE if viewport_width == NARROW else NARROW
    before_width = iframe.evaluate("e => e.getBoundingClientRect().width")
    widget_page.page.set_viewport_size({"width": other, "height": 800})
    widget_page.page.wait_for_function(
        "([e, w]) => e.getBoundingClientRect().width !== w",
        arg=[iframe.element_handle(), before_width],
    )
    second = widget_page.wait_fitted()
    assert_fitted(second)
    if snippet != "counter":
        # The form wraps more at 320 px, so it is taller there: the iframe really followed.
        narrow, wide = (first, second) if viewport_width == NARROW else (second, first)
        assert narrow["iframeHeight"] > wide["iframeHeight"], (narrow, wide)


@pytest.mark.shared_service
@pytest.mark.parametrize("snippet", ["one", "fr", "counter"])
def test_fallback_link_stays_when_the_iframe_never_reports(page, widgets, service, snippet):
    mode = "counter" if snippet == "counter" else "embed"
    aborted: list[str] = []

    def abort(route: Route) -> None:
        aborted.append(route.request.url)
        route.abort()

    page.route(f"{service.url}/c/belarus/{mode}*", abort)
    with page.expect_event("requestfailed", lambda r: f"/c/belarus/{mode}" in r.url):
        widgets.open(snippet)
    # Let the failed iframe finish loading its error page: it will never report a height.
    page.wait_for_load_state("load")
    assert len(aborted) == 1, aborted

    link = widgets.link()
    expect(link).to_be_visible()
    query = {"one": "?partner=demo&lang=en", "fr": "?partner=demo&lang=fr", "counter": "?lang=en"}
    expect(link).to_have_attribute("href", f"{service.url}/c/belarus{query[snippet]}")
    expect(link).to_have_text("Signez la pétition" if snippet == "fr" else "Sign the petition")
    height = widgets.iframe().evaluate("e => e.style.height")
    assert height == f"{INITIAL_HEIGHT[snippet]}px"

    # The link takes the reader to the hosted petition, which works on its own.
    link.click()
    page.wait_for_url(f"{service.url}/c/belarus*")
    expect(page.locator("form[data-pw-form]")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr" if snippet == "fr" else "en")
