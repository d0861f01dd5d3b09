"""The campaign video on the hosted page: a local placeholder until the reader clicks, and a
CSP that lets the page frame exactly the video's origin."""

from __future__ import annotations

from dataclasses import replace

import pytest

from widget.campaigns import CampaignError, parse

VIDEO = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"


async def with_video(client, url: str) -> None:
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, video_url=url))
    await service.campaigns.reload(force=True)


async def test_without_a_video_url_nothing_of_the_video_shows(client):
    """A title alone is a box promising a video that is not there."""
    response = await client.get("/c/belarus")
    assert "Hundreds of Women Detained" not in response.text
    assert "pw-video" not in response.text
    assert "frame-src 'none'" in response.headers["content-security-policy"]


async def test_a_video_is_a_placeholder_until_the_reader_clicks(client):
    await with_video(client, VIDEO)
    response = await client.get("/c/belarus")
    page = response.text
    assert "<iframe" not in page  # nothing from the video's host is loaded
    # Without JavaScript: a link to the video. frame.js swaps in the button.
    assert (
        f'<a class="pw-video-play" href="{VIDEO}" target="_blank" rel="noopener noreferrer" '
        "data-pw-video-link>Play the video</a>" in page
    )
    assert f'hidden data-pw-video-play data-src="{VIDEO}">Play the video</button>' in page
    assert "The video loads from youtube-nocookie.com only if you click play." in page
    assert "VIDEO: Hundreds of Women Detained" in page
    csp = response.headers["content-security-policy"]
    assert "frame-src https://www.youtube-nocookie.com;" in csp
    assert "frame-ancestors 'none'" in csp
    # Only the hosted page shows the video; the iframe and the counter frame nothing.
    for path in ["/c/belarus/embed", "/c/belarus/counter", "/c/belarus/thanks"]:
        assert "frame-src 'none'" in (await client.get(path)).headers["content-security-policy"]


@pytest.mark.parametrize(
    ("language", "title", "note", "button"),
    [
        ("fr", "VIDÉO\xa0: Des centaines de femmes", "La vidéo se charge depuis", "Lire la vidéo"),
        ("be", "ВІДЭА: міліцыя затрымала", "Відэа загрузіцца з", "Прайграць відэа"),
        ("ru", "ВИДЕО: милиция задержала", "Видео загрузится с", "Воспроизвести видео"),
    ],
)
async def test_the_placeholder_in_each_language(client, language, title, note, button):
    await with_video(client, VIDEO)
    page = (await client.get(f"/c/belarus?lang={language}")).text
    assert title in page and f"{note} youtube-nocookie.com" in page
    assert f">{button}</button>" in page


async def test_a_port_belongs_to_the_origin(client):
    await with_video(client, "https://video.example.org:8443/embed/42")
    response = await client.get("/c/belarus")
    csp = response.headers["content-security-policy"]
    assert "frame-src https://video.example.org:8443;" in csp
    assert "The video loads from video.example.org only if you click play." in response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://www.youtube-nocookie.com/embed/x",
        "https://a.example; script-src *",
        "https://a.example;script-src/",
        "https://user:secret@a.example/v",
        "https://a.example:http/v",
        "https:///v",
        "javascript:alert(1)",
    ],
)
def test_a_video_url_must_be_a_plain_https_address(url):
    with pytest.raises(CampaignError) as error:
        parse({"slug": "a", "organisation": "O", "title": "T", "video_url": url})
    assert error.value.field == "video_url"
