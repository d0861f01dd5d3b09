"""The JSON API and the health checks. The counter JSON is the hottest path: it is encoded
once per change and answered from bytes, with an ETag and cache headers, by a small ASGI
layer in front of the router (CounterFastPath, declared in app.fast_paths beside the route
table); the route below answers the rest (404s)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from widget.campaigns import Campaign
from widget.delivery import FastPath
from widget.service import Service, service_of
from widget.store import StoreError
from widget.views.guards import campaign_or_404

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


class CounterAnswer(NamedTuple):
    """A counter JSON made once per (slug, title, count, goal, status): the body, its ETag,
    and its headers as the route sends them (str) and, for a 200 and a 304, as the fast path
    sends them (bytes; FastPath.answer adds the length and the security headers)."""

    body: bytes
    etag: str
    headers: list[tuple[str, str]]
    raw_ok: list[tuple[bytes, bytes]]
    raw_not_modified: list[tuple[bytes, bytes]]


def _encode(service: Service, key: tuple[Any, ...]) -> CounterAnswer:
    cached: CounterAnswer | None = service.counter_bodies.get(key)
    if cached is not None:
        return cached
    slug, title, count, goal, status = key
    body = json.dumps(
        {"slug": slug, "title": title, "count": count, "goal": goal, "status": status},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = [("ETag", etag), *_COUNTER_HEADERS]
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    ok = [(b"content-type", b"application/json"), *raw]
    answer = CounterAnswer(body, etag, headers, ok, raw)
    service.counter_bodies.put(key, answer)
    return answer


async def counter_json(service: Service, campaign: Campaign) -> CounterAnswer:
    """A campaign's counter JSON, made once per count."""
    count = await service.counter.public(campaign)
    return _encode(service, (campaign.slug, campaign.title, count, campaign.goal, campaign.state))


_COUNTER_HEADERS = [
    ("Cache-Control", CACHE_CONTROL),
    ("Access-Control-Allow-Origin", "*"),
    ("Vary", "Accept-Encoding"),
]


async def campaign(request: Request) -> Response:
    found = await campaign_or_404(request)
    answer = await counter_json(service_of(request), found)
    if answer.etag in request.headers.get("if-none-match", ""):
        return Response(b"", 304, headers=dict(answer.headers))
    return Response(answer.body, headers=dict(answer.headers), media_type="application/json")


class CounterFastPath(FastPath):
    """Answers GET /api/campaigns/{slug} for a known campaign straight from bytes, before
    routing and the other middleware: every page view on every partner site asks for it.
    Anything else (an unknown slug included) goes on to the app as usual."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = self.slug(scope)
        found = await self.service.campaigns.get(slug) if slug else None
        if found is None:
            await self.app(scope, receive, send)
            return
        answer = await counter_json(self.service, found)
        for name, value in scope["headers"]:
            if name == b"if-none-match" and answer.etag in value.decode("latin-1"):
                await self.answer(scope, send, 304, answer.raw_not_modified, b"", own_csp=False)
                return
        await self.answer(scope, send, 200, answer.raw_ok, answer.body, own_csp=False)


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. It never touches the database, so a database outage
    does not get every instance restarted."""
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> Response:
    """Readiness: the database answers, so this instance can take signatures."""
    try:
        await service_of(request).store.ping()
    except StoreError:
        return PlainTextResponse("not ready", 503, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("ready", headers={"Cache-Control": "no-store"})
