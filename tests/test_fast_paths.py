"""The fast paths in front of the router (app.fast_paths) answer exactly what the routes
would: the same status, headers and page, for every way a reader's page is asked for."""

from __future__ import annotations

import re

import pytest

import widget.app
from tests.conftest import sign, signer
from widget.views.api import CounterFastPath
from widget.views.pages import ReaderPages

TOKEN = re.compile(r'name="token" value="[^"]+"')
PAGES = [
    "/c/belarus/embed",
    "/c/belarus/embed?lang=fr&partner=amnesty-ca",
    "/c/belarus/embed?lang=be&theme=dark&partner=NOT%20A%20CODE",
    "/c/belarus/embed?lang=xx&theme=purple",
    "/c/belarus/counter?lang=ru&partner=amnesty-ca",
    "/c/belarus",
    "/c/belarus?lang=ru&theme=light",
    "/api/campaigns/belarus",
]
ASKED = [
    {},
    {"accept-encoding": "gzip, deflate, br", "accept-language": "ru-RU,ru;q=0.9"},
    {"accept-language": "fr-CA"},
]
ORIGINS = ["http://testserver", "https://testserver"]


def answer(response) -> tuple[int, dict[str, str], str]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
    return response.status_code, headers, TOKEN.sub("TOKEN", response.text)


@pytest.mark.parametrize("origin", ORIGINS, ids=["http", "https"])
@pytest.mark.parametrize("headers", ASKED, ids=["plain", "gzip-ru", "fr"])
async def test_the_fast_paths_answer_as_the_routes_do(client_factory, monkeypatch, headers, origin):
    async with client_factory() as fast:
        await sign(fast, signer(1))  # a count that is not the offset alone
        answered = [answer(await fast.get(origin + path, headers=headers)) for path in PAGES]
        for path, (status, _, _) in zip(PAGES, answered, strict=True):
            assert status == 200, path
    monkeypatch.setattr(widget.app, "fast_paths", lambda: [])
    async with client_factory() as routed:
        fast_classes = (ReaderPages, CounterFastPath)
        assert not [m for m in routed.app.user_middleware if m.cls in fast_classes]
        for path, fast_answer in zip(PAGES, answered, strict=True):
            routed_answer = answer(await routed.get(origin + path, headers=headers))
            if "vary" not in routed_answer[1]:  # gzip names it only when it compresses
                fast_answer[1].pop("vary", None)
            assert fast_answer == routed_answer, path


async def test_the_counter_answers_an_unchanged_count_with_304_alike(client_factory, monkeypatch):
    path = "/api/campaigns/belarus"
    async with client_factory() as fast:
        etag = (await fast.get(path)).headers["etag"]
        asked = {"if-none-match": f'"another", {etag}'}
        fast_answer = answer(await fast.get(path, headers=asked))
    monkeypatch.setattr(widget.app, "fast_paths", lambda: [])
    async with client_factory() as routed:
        routed_answer = answer(await routed.get(path, headers=asked))
    assert fast_answer[0] == 304 and fast_answer[2] == ""
    assert fast_answer == routed_answer


async def test_the_fast_path_gzips_once_per_token_and_count(client):
    first = await client.get("/c/belarus/embed", headers={"accept-encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert "785 people have taken action" in first.text
    await sign(client, signer(1))
    again = await client.get("/c/belarus/embed", headers={"accept-encoding": "gzip"})
    assert "786 people have taken action" in again.text  # a new count is a new page


async def test_what_the_fast_paths_pass_on_is_answered_by_the_routes(client):
    assert (await client.get("/c/nowhere/embed")).status_code == 404
    assert (await client.get("/c/nowhere")).status_code == 404
    assert (await client.get("/c/belarus/embed/more")).status_code == 404
    head = await client.head("/c/belarus/embed")
    assert head.status_code == 200 and head.content == b""
    assert (await client.post("/c/belarus/embed")).status_code == 405


async def test_while_the_database_does_not_answer_the_page_keeps_the_last_count(client):
    await sign(client, signer(1))
    service = client.app.state.service
    service.counter.lifetime = 0  # the count is read again on every request, and fails
    await service.store.close()
    try:
        response = await client.get("/c/belarus/embed")
        assert response.status_code == 200
        assert "786 people have taken action" in response.text
    finally:
        await service.store.open()
