"""oEmbed: a hosted-page URL pasted alone in a CMS becomes the petition's card."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

HOSTED = "http://testserver/c/belarus"


async def test_the_hosted_page_announces_its_oembed(client):
    page = await client.get("/c/belarus?lang=fr")
    found = re.search(
        r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)" title="([^"]+)">',
        page.text,
    )
    assert found is not None
    assert html.unescape(found.group(1)) == (
        "http://testserver/oembed?url=" + quote(HOSTED + "?lang=fr", safe="") + "&format=json"
    )


async def test_the_answer_is_a_rich_card(client):
    answer = await client.get("/oembed", params={"url": HOSTED + "?partner=amnesty-ca&lang=fr"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    campaign = await client.app.state.service.campaigns.get("belarus")
    assert body["title"] == campaign.content("fr").title != campaign.content("en").title
    assert body["provider_name"] == "Amnesty International Canada"
    assert (body["width"], body["height"]) == (600, 280)
    src = html.unescape(re.search(r'<iframe src="([^"]+)"', body["html"]).group(1))
    assert src == "http://testserver/c/belarus/card?partner=amnesty-ca&lang=fr"
    # WordPress's embed format: a quote with a link to the petition, before the iframe (its
    # embed script, which sizes the card and lets its button open the hosted page, loads
    # only for such embeds); hidden where the HTML is shown as it is, and there the loader,
    # which WordPress strips, replaces quote and card with the full petition.
    quote = re.fullmatch(
        r'<blockquote style="display:none"><a href="([^"]+)" data-campaign="belarus" '
        r'data-partner="amnesty-ca" data-lang="fr" data-oembed="1">([^<]+)</a></blockquote>'
        r'<iframe [^>]+></iframe><script async src="http://testserver/embed.js"></script>',
        body["html"],
    )
    assert quote is not None, body["html"]
    assert html.unescape(quote.group(1)) == "http://testserver/c/belarus?partner=amnesty-ca&lang=fr"
    assert html.unescape(quote.group(2)) == body["title"]

    narrow = (await client.get("/oembed", params={"url": HOSTED, "maxwidth": "320"})).json()
    assert narrow["width"] == 320
    assert (await client.get("/oembed", params={"url": HOSTED, "maxwidth": "x"})).status_code == 400


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/c/belarus", "http://testserver/c/nope", "http://testserver/admin",
     "http://testserver/c/belarus/embed", ""],
)  # fmt: skip
async def test_only_our_petitions(client, url):
    assert (await client.get("/oembed", params={"url": url})).status_code == 404


async def test_only_json(client):
    answer = await client.get("/oembed", params={"url": HOSTED, "format": "xml"})
    assert answer.status_code == 501


async def test_the_card_shows_the_count_and_opens_the_hosted_page(client):
    card = await client.get("/c/belarus/card?partner=amnesty-ca&lang=en")
    assert card.status_code == 200
    assert "785 people have taken action" in card.text
    assert 'href="/c/belarus?partner=amnesty-ca&amp;lang=en" target="_top"' in card.text
    assert "<form" not in card.text  # nothing to submit inside a sandbox
    assert "frame-ancestors *" in card.headers["content-security-policy"]
    assert re.search(r'<script src="/static/card\.js\?v=[0-9a-f]{12}" defer>', card.text)
