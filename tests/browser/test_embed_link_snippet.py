"""The snippet of today is a link, then the loader: the loader replaces the link with the
petition; where a CMS stripped the script, the link stays and works; with data-load="click"
and the loader on the partner's own site, the partner's page asks nothing of the service until
the reader clicks."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_loader_replaces_the_link_with_the_petition(widgets, service, signer, sign, screenshot):
    page = widgets.open("link").page
    frame = widgets.ready()
    widgets.wait_fitted()
    expect(widgets.link()).to_be_hidden()  # the partner's own link, kept as the fallback
    assert widgets.link().get_attribute("data-pw-mounted") == "1"
    assert frame.url == f"{service.url}/c/belarus/embed?partner=demo&lang=en"
    screenshot(page, "link-snippet-loaded")
    sign(frame, signer)
    expect(widgets.count_text()).to_have_text("786 people have taken action")
    page.wait_for_function("() => window.pwEvents.length > 0")
    assert widgets.events()[0]["detail"] == {"campaign": "belarus", "count": 786}


def test_a_stripped_script_leaves_a_working_link(page, partner, service, network, screenshot):
    page.goto(partner.url("stripped"))
    link = page.locator("a[data-campaign]")
    expect(link).to_be_visible()
    expect(link).to_have_text("Sign the petition")
    expect(page.locator("iframe")).to_have_count(0)
    screenshot(page, "link-snippet-stripped")
    link.click()
    page.wait_for_url(f"{service.url}/c/belarus?partner=demo&lang=en")
    expect(page.locator("h1")).to_have_text("Protect peaceful protesters in Belarus")


def test_click_to_load_asks_nothing_of_the_service_before_the_click(
    page, partner, service, network, screenshot
):
    page.goto(partner.url("click"))
    page.wait_for_load_state("networkidle")
    assert service.url not in network.origins(), network.origins()  # not even the loader
    link = page.locator("a[data-campaign]")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("data-pw-mounted", "1")  # the partner's copy of the loader ran
    screenshot(page, "link-snippet-click-to-load")
    link.click()
    frame_element = page.locator("div.petition-widget > iframe")
    expect(frame_element).to_have_count(1)
    expect(link).to_be_hidden()  # the iframe reported in
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    expect(frame.locator("[data-pw-count-text]")).to_have_text("785 people have taken action")
    assert page.url == partner.url("click")  # loaded in place, not followed
    assert service.url in network.origins()
