"""Signing inside the iframe, and the messages between the iframe and the partner page: the
`petition:signed` event carries only {campaign, count}, and only the widget's own iframe can
resize it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from playwright.sync_api import expect


def test_signing_in_the_iframe_updates_the_counter_and_tells_the_page(
    widget_page, service, network, signer, sign
):
    page = widget_page.page
    frame = widget_page.ready()
    frame_url = frame.url
    expect(widget_page.count_text()).to_have_text("785 people have taken action")
    # Marks that a reload, of the frame or of the page, would wipe out.
    frame.evaluate("() => { window.pwMarker = 'still here'; }")
    page.evaluate("() => { window.pwMarker = 'still here'; }")

    with page.expect_response(lambda r: r.url == f"{service.url}/c/belarus/sign") as answer:
        sign(frame, signer)
    response = answer.value
    assert response.status == 200
    assert response.request.resource_type == "fetch"
    assert response.request.header_value("accept") == "application/json"
    assert response.json()["ok"] is True
    assert response.json()["count"] == 786

    expect(widget_page.count_text()).to_have_text("786 people have taken action")
    expect(frame.locator("[data-pw-thanks]")).to_be_visible()
    expect(frame.locator("form[data-pw-form]")).to_be_hidden()
    code = response.json()["withdraw_code"]
    expect(frame.locator("[data-pw-withdraw-code]")).to_have_text(code)
    # No reload: the same documents, and no document request after the first two.
    assert frame.evaluate("() => window.pwMarker") == "still here"
    assert page.evaluate("() => window.pwMarker") == "still here"
    assert frame.url == frame_url
    documents = [r.url for r in network.requests if r.resource_type == "document"]
    assert documents == [page.url, frame_url]

    page.wait_for_function("() => window.pwEvents.length > 0")
    events = widget_page.events()
    assert len(events) == 1, events
    event = events[0]
    assert event["detail"] == {"campaign": "belarus", "count": 786}
    assert event["keys"] == ["campaign", "count"]
    assert event["json"] == '{"campaign":"belarus","count":786}'
    assert event["widget"] == 0
    assert event["bubbles"] is True
    assert event["isCustomEvent"] is True

    # Nothing the reader typed reached the partner's page, by event or by message.
    seen = (json.dumps(events) + json.dumps(widget_page.messages())).lower()
    for value in (*signer.personal_data(), code):
        assert value.lower() not in seen
    signed = [m for m in widget_page.messages() if m["data"]["type"] == "petition-widget:signed"]
    assert signed == [
        {
            "origin": service.url,
            "data": {"type": "petition-widget:signed", "campaign": "belarus", "count": 786},
        }
    ]

    # The thank-you state is shorter than the form: the iframe shrank to fit it.
    fitted = widget_page.wait_fitted()
    assert abs(fitted["iframeHeight"] - fitted["contentHeight"]) <= 1
    assert service.partners() == ["demo"]  # one signature, through this partner's widget


WATCH_HEIGHT = """iframe => {
  window.pwHeights = [];
  new MutationObserver(function () { window.pwHeights.push(iframe.style.height); })
    .observe(iframe, { attributes: true, attributeFilter: ["style"] });
}"""

FOREIGN_HEIGHT = {"type": "petition-widget:height", "height": 5}
FOREIGN_SIGNED = {"type": "petition-widget:signed", "campaign": "belarus", "count": 999999}

# Posts to the parent window; on the top-level page, window.parent is the page itself.
POST_FOREIGN = """([height, signed, source]) => {
  window.parent.postMessage(height, "*");
  window.parent.postMessage(signed, "*");
  window.parent.postMessage({ type: "probe-done", from: source }, "*");
}"""

# Messages from one window arrive in the order they were posted: once the page has the
# "probe-done" that followed the foreign ones, embed.js has handled those.
PROBE_DONE = """source => window.pwMessages.some(
  m => m.data && m.data.type === "probe-done" && m.data.from === source)"""

ADD_IFRAME = """src => {
  const frame = document.createElement("iframe");
  frame.src = src;
  document.body.appendChild(frame);
}"""


@pytest.mark.shared_service
@pytest.mark.parametrize("source", ["host-page", "third-origin-frame", "other-service-frame"])
def test_messages_from_anything_but_the_widget_iframe_are_ignored(
    widget_page, service, partner, source
):
    """A height of 5 px (and a fake `signed`) posted by the host page itself, by an iframe on
    a third origin, or by a second iframe from the service's own origin that is not this
    widget's, must not resize the widget nor fire `petition:signed`."""
    page = widget_page.page
    settled = widget_page.wait_fitted()
    iframe = widget_page.iframe()
    settled_height = iframe.evaluate("e => e.style.height")
    iframe.evaluate(WATCH_HEIGHT)

    if source == "host-page":
        page.evaluate(POST_FOREIGN, [FOREIGN_HEIGHT, FOREIGN_SIGNED, source])
        expected_origin = partner.origin
    elif source == "third-origin-frame":
        # foreign.html posts the same three messages as soon as it loads.
        page.evaluate(ADD_IFRAME, f"{partner.third_origin}/foreign.html")
        source = "third-origin"
        expected_origin = partner.third_origin
    else:
        # Right origin, wrong window: the service's counter page in an iframe the partner
        # added by hand. Its frame.js posts real height messages of its own, too.
        counter_url = f"{service.url}/c/belarus/counter"
        page.evaluate(ADD_IFRAME, counter_url)
        other = page.locator(f'iframe[src="{counter_url}"]').element_handle().content_frame()
        assert other is not None
        other.wait_for_url(counter_url)  # not the about:blank it starts as
        other.wait_for_load_state()
        other.evaluate(POST_FOREIGN, [FOREIGN_HEIGHT, FOREIGN_SIGNED, source])
        expected_origin = service.url

    page.wait_for_function(PROBE_DONE, arg=source)
    # The page did get the message, from where the test says: the widget ignored it.
    received = [m["origin"] for m in widget_page.messages() if m["data"] == FOREIGN_HEIGHT]
    assert received == [expected_origin]

    heights = page.evaluate("() => window.pwHeights")
    assert all(h == settled_height for h in heights), heights
    assert iframe.evaluate("e => e.style.height") == settled_height
    assert abs(widget_page.iframe_height() - settled["iframeHeight"]) <= 1
    assert widget_page.events() == []
    expect(widget_page.link()).to_be_hidden()


LISTEN_ON_EACH_BOX = """() => document.querySelectorAll(".petition-widget").forEach(box => {
  box.pwOwn = [];
  box.addEventListener("petition:signed", event => box.pwOwn.push(event.detail.count));
})"""
OWN_EVENTS = """() => Array.from(document.querySelectorAll(".petition-widget"), box => box.pwOwn)"""


@pytest.mark.parametrize("snippet", ["two"])
def test_two_widgets_on_one_page_work_independently(widget_page, service, signer, sign):
    page = widget_page.page
    srcs = [widget_page.iframe(i).get_attribute("src") for i in (0, 1)]
    assert srcs == [
        f"{service.url}/c/belarus/embed?partner=alpha&lang=en",
        f"{service.url}/c/belarus/embed?partner=beta&lang=en",
    ]
    first, second = widget_page.ready(0), widget_page.ready(1)
    for index in (0, 1):
        widget_page.wait_fitted(index)
    # Each container listens for its own event, besides the document-wide recorder.
    page.evaluate(LISTEN_ON_EACH_BOX)
    height_first = widget_page.iframe(0).evaluate("e => e.style.height")

    sign(second, signer)
    expect(widget_page.count_text(1)).to_have_text("786 people have taken action")
    expect(second.locator("[data-pw-thanks]")).to_be_visible()
    page.wait_for_function("() => window.pwEvents.length > 0")
    events = widget_page.events()
    assert [(e["widget"], e["detail"]) for e in events] == [
        (1, {"campaign": "belarus", "count": 786})
    ]
    own = page.evaluate(OWN_EVENTS)
    assert own == [[], [786]]
    # The first widget is untouched: its form is still there, its size unchanged.
    expect(first.locator("form[data-pw-form]")).to_be_visible()
    expect(first.locator("[data-pw-thanks]")).to_be_hidden()
    expect(widget_page.count_text(0)).to_have_text("785 people have taken action")
    assert widget_page.iframe(0).evaluate("e => e.style.height") == height_first
    widget_page.wait_fitted(1)

    # Now the first one, by someone else.
    grace = dataclasses.replace(signer, first_name="Grace", email="grace@example.org")
    sign(first, grace)
    expect(widget_page.count_text(0)).to_have_text("787 people have taken action")
    page.wait_for_function("() => window.pwEvents.length > 1")
    events = widget_page.events()
    assert [(e["widget"], e["detail"]["count"]) for e in events] == [(1, 786), (0, 787)]
    own = page.evaluate(OWN_EVENTS)
    assert own == [[787], [786]]
    # Each signature was recorded with the partner code of the widget it came through.
    assert service.partners() == ["beta", "alpha"]
