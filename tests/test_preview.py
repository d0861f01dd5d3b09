"""Shared links preview: the hosted page's description, Open Graph and Twitter tags, and the
1200 by 630 picture the server draws from the campaign, in the reader's language."""

from __future__ import annotations

import html
import io
import re
from dataclasses import replace

import pytest
from PIL import Image

from widget import preview


def tags(page: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


async def test_the_hosted_page_describes_itself_for_shared_links(client):
    page = (await client.get("/c/belarus?lang=fr")).text
    meta = tags(page)
    assert meta["og:title"] == "Protégez les manifestants pacifiques au Bélarus"
    assert meta["description"] == meta["og:description"]
    assert meta["description"].startswith("Mettez fin aux violences policières")
    assert meta["og:url"] == "http://testserver/c/belarus?lang=fr"
    assert meta["og:image"] == "http://testserver/c/belarus/preview.png?lang=fr"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:site_name"] == "Amnesty International Canada"
    assert meta["og:locale"] == "fr_CA"
    assert meta["twitter:card"] == "summary_large_image"
    assert '<link rel="canonical" href="http://testserver/c/belarus?lang=fr">' in page


async def test_a_long_description_is_cut_at_a_word(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, tagline="", body=("word " * 100,)))
    await service.campaigns.reload(force=True)
    description = tags((await client.get("/c/belarus")).text)["description"]
    assert len(description) <= 200 and description.endswith("word…")


@pytest.mark.parametrize("language", ["en", "fr", "be", "ru"])
async def test_the_picture_is_a_1200_by_630_png(client, language):
    answer = await client.get(f"/c/belarus/preview.png?lang={language}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "public, max-age=86400"
    picture = Image.open(io.BytesIO(answer.content))
    assert picture.size == (1200, 630)
    # The foot is the campaign's colour (#1a1a1a for Belarus), the page white.
    assert picture.getpixel((10, 600)) == (0x1A, 0x1A, 0x1A)
    assert picture.getpixel((1190, 300)) == (255, 255, 255)
    again = await client.get(
        f"/c/belarus/preview.png?lang={language}",
        headers={"If-None-Match": answer.headers["etag"]},
    )
    assert again.status_code == 304
    assert (await client.get("/c/nope/preview.png")).status_code == 404


def test_every_title_fits_and_a_light_colour_gets_dark_text():
    long_title = "Protect " + "peaceful protesters everywhere " * 12
    drawn = Image.open(io.BytesIO(preview.picture(long_title, "Org", "#ffe600", "Add your name")))
    assert drawn.size == (1200, 630)
    # On a yellow band the call is drawn in black (its darkest pixels), not white.
    band = drawn.crop((80, 500, 600, 610)).convert("L")
    assert band.getextrema()[0] < 40
    font, lines = preview._fitted_title(long_title, 1040)
    assert len(lines) == preview.MAX_LINES and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 1040 for line in lines)
