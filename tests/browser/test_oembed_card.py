"""The oEmbed card inside WordPress's sandbox (scripts, nothing else): it shows the count and
speaks WordPress's embed protocol, its height and a request to open the hosted page, signed
with the secret WordPress put in its URL, and nothing else."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_card_speaks_wordpress_embed_protocol(page, partner, service, screenshot):
    page.goto(partner.url("oembed"))
    frame = page.frame_locator("iframe[title='Petition card']")
    expect(frame.locator("[data-pw-count-text]")).to_have_text("785 people have taken action")
    page.wait_for_function(
        "() => window.pwMessages.some(m => m.data && m.data.message === 'height')"
    )
    screenshot(page, "oembed-card")
    frame.locator("a.pw-button").click()
    page.wait_for_function("() => window.pwMessages.some(m => m.data && m.data.message === 'link')")
    messages = [m["data"] for m in page.evaluate("() => window.pwMessages")]
    heights = [m for m in messages if m["message"] == "height"]
    assert heights and all(m["secret"] == "abc123" and 100 < m["value"] < 280 for m in heights)
    links = [m for m in messages if m["message"] == "link"]
    assert links == [
        {"message": "link", "value": f"{service.url}/c/belarus?lang=en", "secret": "abc123"}
    ]
    assert {m["message"] for m in messages} <= {"height", "link"}
    assert page.url == partner.url("oembed")  # the host page decides; nothing navigated


def test_a_consumer_that_trusts_the_provider_gets_the_full_petition(
    page, widgets, partner, service, screenshot
):
    """Ghost, Drupal and others show oEmbed's HTML as it is, script included: the loader
    puts the petition in place of the quote and the card."""
    page.goto(partner.url("oembed-trusted"))
    frame = widgets.ready()
    widgets.wait_fitted()
    assert frame.url == f"{service.url}/c/belarus/embed?partner=demo&lang=en"
    expect(page.locator("blockquote")).to_have_count(0)
    expect(page.locator("iframe")).to_have_count(1)  # the card is gone
    expect(frame.locator("form[data-pw-form] button[type=submit]")).to_be_visible()
    screenshot(page, "oembed-trusted-consumer")
