"""After signing, the share links are plain links: nothing is loaded from Telegram, Viber,
WhatsApp, Facebook or X, not when they appear, not when the reader points at them or tabs
through them."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

# The networks' own domains, and those they serve their scripts, images and frames from.
NETWORKS = (
    "t.me", "telegram.org", "viber.com", "wa.me", "whatsapp.com", "whatsapp.net",
    "facebook.com", "facebook.net", "fbcdn.net", "twitter.com", "x.com", "twimg.com",
)  # fmt: skip
LINKS = {
    "telegram": "https://t.me/share/url?",
    "viber": "viber://forward?",
    "whatsapp": "https://wa.me/?",
    "facebook": "https://www.facebook.com/sharer/sharer.php?",
    "x": "https://twitter.com/intent/tweet?",
    "email": "mailto:?",
}


def to_a_network(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "viber" or any(host == n or host.endswith("." + n) for n in NETWORKS)


def test_share_links_load_nothing_from_the_networks(
    widget_page, service, partner, network, signer, sign
):
    frame = widget_page.ready()
    sign(frame, signer)
    expect(frame.locator("[data-pw-thanks]")).to_be_focused()

    links = frame.locator(".pw-share-links a")
    expect(links).to_have_count(len(LINKS))
    for index, (name, start) in enumerate(LINKS.items()):
        link = links.nth(index)
        href = link.get_attribute("href") or ""
        assert href.startswith(start), (name, href)
        link.hover()
        link.focus()
        expect(link).to_be_focused()
    # And the thank-you page of a reader without JavaScript carries the same links.
    thanks = widget_page.page.context.new_page()
    thanks.goto(f"{service.url}/c/belarus/thanks?lang=en")
    expect(thanks.locator(".pw-share-links a")).to_have_count(len(LINKS))
    thanks.wait_for_load_state("networkidle")
    widget_page.page.wait_for_load_state("networkidle")

    assert [r.url for r in network.requests if to_a_network(r.url)] == []
    assert network.origins() == {partner.origin, service.url}
    # No element of either document loads anything from anywhere but the service.
    sources = "() => [...document.querySelectorAll('[src]')].map(e => e.src)"
    for doc in (frame, thanks.main_frame):
        assert [s for s in doc.evaluate(sources) if not s.startswith(service.url)] == []


# A browser with a share sheet (Chromium on Linux has none): record what it would be given.
FAKE_SHARE = """
window.pwShared = [];
navigator.share = function (data) { window.pwShared.push(data); return Promise.resolve(); };
"""


def test_the_share_sheet_is_offered_where_the_browser_has_one(page, service, signer, sign):
    page.goto(f"{service.url}/c/belarus?lang=en")
    expect(page.locator("[data-pw-native-share]")).to_be_hidden()  # no share sheet here
    page.add_init_script(FAKE_SHARE)
    page.goto(f"{service.url}/c/belarus?lang=en")
    sign(page, signer)
    button = page.get_by_role("button", name="Share…")
    expect(button).to_be_visible()
    button.click()
    assert page.evaluate("() => window.pwShared") == [{
        "title": "Protect peaceful protesters in Belarus",
        "text": "Protect peaceful protesters in Belarus. Add your name:",
        "url": f"{service.url}/c/belarus?lang=en",
    }]  # fmt: skip
    # Each network's link carries its icon, drawn in the page.
    icons = page.locator(".pw-share-links a svg use")
    expect(icons).to_have_count(len(LINKS))
    assert icons.first.get_attribute("href") == "#pw-i-telegram"
