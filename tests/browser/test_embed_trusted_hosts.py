"""Only trusted hosts hear about a signature. A campaign open to any site (`*`, as Belarus is)
can be framed by a hostile page that knows its visitors; after its visitor signs, that page
must see no event, no message and no change of the iframe's height. The partner site's origin
is a registered partner's (tests/browser/conftest.py) and hears as before; the same page on a
third origin does not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import NEXT_PAINT, SANDBOXES

WATCH_HEIGHT = """iframe => {
  window.pwHeights = [];
  new MutationObserver(function () { window.pwHeights.push(iframe.style.height); })
    .observe(iframe, { attributes: true, attributeFilter: ["style"] });
}"""

# Posted from inside the widget's frame after it has painted the thank-you state: messages
# from one window arrive in order, so once the host has this, it has everything the widget
# posted before.
PROBE = '() => window.parent.postMessage({ type: "probe-done" }, "*")'
PROBE_DONE = '() => window.pwMessages.some(m => m.data && m.data.type === "probe-done")'


def widget_messages(widgets) -> list[dict]:
    return [
        m
        for m in widgets.messages()
        if isinstance(m["data"], dict) and str(m["data"].get("type", "")).startswith("petition-")
    ]


def sign_and_settle(widgets, signer, sign) -> None:
    frame = widgets.frame()
    sign(frame, signer)
    expect(frame.locator("[data-pw-thanks]")).to_be_visible()
    expect(widgets.count_text()).to_have_text("786 people have taken action")
    for _ in range(3):
        frame.evaluate(NEXT_PAINT)
    frame.evaluate(PROBE)
    widgets.page.wait_for_function(PROBE_DONE)


def test_an_untrusted_host_learns_nothing_when_its_visitor_signs(
    widgets, partner, service, signer, sign
):
    widgets.open("one", origin=partner.third_origin)
    fitted = widgets.wait_fitted()  # before signing, the form's height reaches any host
    assert abs(fitted["iframeHeight"] - fitted["contentHeight"]) <= 1
    before = widget_messages(widgets)
    assert before and all(m["data"]["type"] == "petition-widget:height" for m in before)
    height = widgets.iframe().evaluate("e => e.style.height")
    widgets.iframe().evaluate(WATCH_HEIGHT)

    sign_and_settle(widgets, signer, sign)

    assert service.partners() == ["demo"]  # the signature was taken…
    assert widgets.events() == []  # …and the host page heard nothing of it:
    assert widget_messages(widgets) == before  # no message,
    assert widgets.page.evaluate("() => window.pwHeights") == []  # no resize,
    assert widgets.iframe().evaluate("e => e.style.height") == height  # the same height.


def test_a_trusted_host_hears_of_the_signature(widgets, partner, service, signer, sign):
    widgets.open("one")  # the registered partner's origin
    fitted = widgets.wait_fitted()
    form_height = fitted["iframeHeight"]

    sign_and_settle(widgets, signer, sign)

    assert [e["detail"] for e in widgets.events()] == [{"campaign": "belarus", "count": 786}]
    signed = [m for m in widget_messages(widgets) if m["data"]["type"].endswith(":signed")]
    assert signed == [
        {
            "origin": service.url,
            "data": {"type": "petition-widget:signed", "campaign": "belarus", "count": 786},
        }
    ]
    after = widgets.wait_fitted()  # the thank-you state has its own height: the iframe followed
    assert after["iframeHeight"] != form_height


@pytest.mark.parametrize("sandbox", sorted(SANDBOXES))
def test_a_sandboxing_host_gets_no_form_whose_post_it_could_see(page, partner, service, sandbox):
    """A hostile page can sandbox the frame so that our script does not run, or runs without our
    origin (fetch() then cannot read the answer): the form would then post the ordinary way,
    and the frame's reload fires a load event on the host's iframe, telling it that its visitor
    signed. So the form is not offered there: a link opens the petition's own page, in a tab
    of its own, where no host page watches."""
    page.goto(f"{partner.third_origin}/{sandbox}.html")
    frame = page.frame_locator("iframe")
    link = frame.get_by_role("link", name=f"{service.url}/c/belarus?partner=demo&lang=en")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("target", "_blank")
    expect(frame.get_by_text("The form cannot be sent from inside this page.")).to_be_visible()
    expect(frame.locator("[data-pw-form]")).to_be_hidden()
    assert page.evaluate("() => window.pwLoads") == 1  # the frame loaded once, and stays


def test_an_ordinary_frame_offers_the_form_and_no_link_away(widgets):
    widgets.open("one", origin=widgets.partner.third_origin)
    frame = widgets.ready()
    expect(frame.locator("[data-pw-form]")).to_be_visible()
    expect(frame.get_by_text("The form cannot be sent from inside this page.")).to_be_hidden()


def test_the_thank_you_shows_where_the_reader_looks_without_scrolling_the_host(
    page, partner, service, signer
):
    """Focusing the thank-you where it stands, above the button just pressed, would scroll the
    host page: an event it sees at the very moment its visitor signs. For a host it does not
    trust, the frame moves the thank-you into the part of it the reader sees, and focuses it
    without scrolling anything."""
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"{partner.third_origin}/tall.html")
    frame = page.frame_locator("iframe")
    frame.locator("#pw-first_name").fill(signer.first_name)
    frame.locator("#pw-last_name").fill(signer.last_name)
    frame.locator("#pw-email").fill(signer.email)
    frame.locator("#pw-country").select_option(signer.country)
    button = frame.locator("form[data-pw-form] button[type=submit]")
    button.scroll_into_view_if_needed()  # the reader is down at the button, the form's top gone
    page.evaluate(NEXT_PAINT)  # the scroll's own event has fired
    page.evaluate("() => { window.pwScrolls = []; }")
    before = page.evaluate("() => scrollY")
    button.click()
    thanks = frame.locator("[data-pw-thanks]")
    expect(thanks).to_be_focused()
    page.evaluate(NEXT_PAINT)  # a scroll that focusing caused would have fired by now
    heading = thanks.get_by_role("heading", name="Your name has been added").bounding_box()
    assert heading is not None and 0 <= heading["y"] <= 700 - heading["height"], heading
    assert page.evaluate("() => [scrollY, window.pwScrolls]") == [before, []]
