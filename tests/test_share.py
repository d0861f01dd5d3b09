"""The reader who has signed and passes the petition on: share links built on the server,
in the reader's language, that load nothing until followed."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

from tests.conftest import sign, signer
from widget import share

URL = "https://petitions.example.org/c/belarus?lang=fr"
TEXT = "Protégeons les manifestants pacifiques au Bélarus. Ajoutez votre nom\xa0:"
SUBJECT = "Protégez les manifestants pacifiques au Bélarus"


def test_each_network_gets_its_own_share_endpoint():
    links = {link.network: link for link in share.links(URL, TEXT, SUBJECT)}
    assert list(links) == ["telegram", "viber", "whatsapp", "facebook", "x", "email"]
    expected = {
        "telegram": ("https://t.me/share/url", {"url": URL, "text": TEXT}),
        "viber": ("viber://forward", {"text": f"{TEXT} {URL}"}),
        "whatsapp": ("https://wa.me/", {"text": f"{TEXT} {URL}"}),
        "facebook": ("https://www.facebook.com/sharer/sharer.php", {"u": URL}),
        "x": ("https://twitter.com/intent/tweet", {"text": TEXT, "url": URL}),
        "email": ("mailto:", {"subject": SUBJECT, "body": f"{TEXT}\n\n{URL}"}),
    }
    for network, (endpoint, sent) in expected.items():
        address, _, query = links[network].url.partition("?")
        assert address == endpoint, network
        assert params(links[network].url) == sent, network
        assert "+" not in query  # spaces as %20: mail and messaging apps show + as it is
    assert links["telegram"].url.startswith(
        "https://t.me/share/url?url=https%3A%2F%2Fpetitions.example.org%2Fc%2Fbelarus%3Flang%3Dfr"
        "&text=Prot%C3%A9geons%20les"
    )
    assert [link.opens_a_tab for link in links.values()] == [True, False, True, True, True, False]


def share_links(page: str) -> dict[str, tuple[str, str]]:
    """network: (href, the attributes after it) for each share link on a page."""
    found = re.findall(r'<a class="pw-share-link pw-share-(\w+)" href="([^"]+)"([^>]*)>', page)
    return {network: (html.unescape(href), rest) for network, href, rest in found}


def params(href: str) -> dict[str, str]:
    return {name: value for name, [value] in parse_qs(urlsplit(href).query).items()}


async def test_thank_you_page_offers_share_links_in_the_readers_language(client):
    response = await sign(client, signer(1, lang="fr", view="hosted"), json=False)
    page = (await client.get(response.headers["location"])).text
    links = share_links(page)
    assert set(links) == {"telegram", "viber", "whatsapp", "facebook", "x", "email"}
    telegram, attributes = links["telegram"]
    # Absolute, from the request's origin, in the reader's language.
    assert params(telegram) == {"url": "http://testserver/c/belarus?lang=fr", "text": TEXT}
    assert attributes == ' target="_blank" rel="noopener noreferrer"'
    email, attributes = links["email"]
    assert attributes == ' rel="noopener noreferrer"'  # mailto: leaves no empty tab behind
    assert params(email)["subject"] == SUBJECT
    assert ">Courriel</a>" in page and ">Telegram</a>" in page
    assert "Partagez la pétition" in page
    # The link itself, visible, and a copy button that frame.js reveals.
    assert (
        '<input id="pw-share-url" type="text" value="http://testserver/c/belarus?lang=fr" '
        "readonly data-pw-share-url>" in page
    )
    assert '<button class="pw-copy" type="button" hidden data-pw-copy>Copier le lien</button>' in (
        page
    )
    assert 'data-copied="Lien copié."' in page


async def test_the_iframes_thank_you_section_carries_the_same_links(client):
    page = (await client.get("/c/belarus/embed?lang=ru")).text
    thanks = page[page.index("data-pw-thanks") :]
    assert set(share_links(thanks)) == {"telegram", "viber", "whatsapp", "facebook", "x", "email"}
    assert "Поделитесь петицией" in thanks
    whatsapp, _ = share_links(thanks)["whatsapp"]
    assert params(whatsapp)["text"] == (
        "Защитите мирных протестующих в Беларуси. Добавьте своё имя: "
        "http://testserver/c/belarus?lang=ru"
    )


async def test_share_links_use_the_public_url_behind_a_proxy(client_factory):
    async with client_factory(public_url="https://petitions.example.org") as client:
        client.headers["Host"] = "petitions.example.org"  # as the proxy passes it on
        page = (await client.get("/c/belarus/thanks")).text
    links = share_links(page)
    assert params(links["facebook"][0]) == {"u": "https://petitions.example.org/c/belarus?lang=en"}
    assert params(links["x"][0]) == {
        "text": "Protect peaceful protesters in Belarus. Add your name:",
        "url": "https://petitions.example.org/c/belarus?lang=en",
    }


async def test_nothing_from_a_network_is_on_the_page(client):
    page = (await client.get("/c/belarus/thanks")).text
    assert share_links(page)
    assert not re.search(r"<script[^>]+src=\"https?://", page)
    assert not re.search(r"<(img|iframe)\b", page)


async def test_a_closed_petition_is_not_shared(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, status="closed"))
    await service.campaigns.reload(force=True)
    for path in ["/c/belarus/thanks", "/c/belarus/embed", "/c/belarus"]:
        assert share_links((await client.get(path)).text) == {}, path


def test_the_loader_lets_the_iframe_copy_the_link():
    from widget.resources import resource

    assert 'frame.allow = "clipboard-write; web-share"' in resource("embed.js").read_text()
