"""How the bytes travel: static files under their digest, cached for a year; gzip for the
pages and files readers load, never for an answer that holds a secret (BREACH)."""

from __future__ import annotations

import re

import pytest

from widget.delivery import COMPRESSIBLE, SHORT, YEAR
from widget.resources import static_digest

GZIP = {"Accept-Encoding": "gzip"}


async def test_static_files_are_cached_for_a_year_under_their_digest(client):
    page = (await client.get("/c/belarus/embed")).text
    linked = re.findall(r'(?:src|href)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', page)
    assert {name for name, _ in linked} == {"/static/widget.css", "/static/frame.js"}
    for path, version in linked:
        assert version == static_digest(path.rsplit("/", 1)[1])
        current = await client.get(f"{path}?v={version}")
        assert current.status_code == 200 and current.headers["cache-control"] == YEAR
        # An older page's URL (or none) still gets the file, for a short while only.
        for stale in (f"{path}?v=000000000000", path):
            answer = await client.get(stale)
            assert answer.content == current.content
            assert answer.headers["cache-control"] == SHORT


async def test_the_loader_keeps_a_short_lifetime(client):
    answer = await client.get("/embed.js", headers=GZIP)
    assert answer.headers["cache-control"] == "public, max-age=300"
    assert answer.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    "path",
    ["/", "/c/belarus", "/c/belarus/embed?lang=ru", "/c/belarus/counter", "/c/belarus/card",
     "/static/widget.css", "/static/frame.js", "/embed.js"],
)  # fmt: skip
async def test_what_readers_load_is_gzipped(client, path):
    answer = await client.get(path, headers=GZIP)
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in answer.headers["vary"].lower()
    plain = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


@pytest.mark.parametrize(
    "path",
    ["/c/belarus/thanks", "/c/belarus/withdraw", "/c/belarus/confirm/abc", "/c/belarus/sign",
     "/admin", "/admin/login", "/admin/campaigns/belarus", "/c/belarus/partners/x/export.csv"],
)  # fmt: skip
def test_answers_that_may_hold_a_secret_are_never_compressed(path):
    assert COMPRESSIBLE.match(path) is None


async def test_the_thanks_page_and_the_admin_go_uncompressed(client):
    for path in ("/c/belarus/thanks", "/admin/login"):
        answer = await client.get(path, headers=GZIP)
        assert len(answer.content) > 512  # big enough to have been compressed otherwise
        assert "content-encoding" not in answer.headers, path
