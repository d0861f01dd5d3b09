"""The snippet partners paste: a link that works on its own, then the loader."""

from __future__ import annotations

import json
import re

from widget.resources import resource
from widget.snippets import LINK_TEXT, snippet
from widget.urls import URLs

PUBLIC = URLs("https://petitions.example.org")


def test_the_snippet_is_a_working_link_then_the_loader():
    assert snippet(PUBLIC, "belarus", "fr", "amnesty-ca") == (
        '<a href="https://petitions.example.org/c/belarus?partner=amnesty-ca&amp;lang=fr" '
        'data-campaign="belarus" data-partner="amnesty-ca" data-lang="fr">Signez la pétition</a>\n'
        '<script async src="https://petitions.example.org/embed.js"></script>'
    )


def test_options_and_a_counter():
    counter = snippet(PUBLIC, "belarus", "en", "p", mode="counter", load="click")
    assert 'href="https://petitions.example.org/c/belarus?lang=en"' in counter
    assert 'data-mode="counter" data-load="click"' in counter


def test_the_link_text_is_the_loaders():
    source = resource("embed.js").read_text()
    table = re.search(r"var TEXT = (\{.*?\});", source, re.S).group(1)
    loader = json.loads(re.sub(r"(\w+):", r'"\1":', table))
    assert {lang: texts[0] for lang, texts in loader.items()} == LINK_TEXT


async def test_the_admin_gives_each_partner_its_snippet(client):
    from tests.test_admin import add_operator, log_in, post

    await add_operator(client)
    await log_in(client)
    await post(client, "/admin/partners", {"code": "rivers", "name": "Rivers"})
    page = await client.get("/admin/campaigns/belarus", params={"sn_partner": "rivers"})
    assert "data-partner=&#34;rivers&#34;" in page.text
    assert "&lt;script async src=&#34;http://testserver/embed.js&#34;&gt;" in page.text
