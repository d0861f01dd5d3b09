"""The JSON API and the health checks. The counter JSON is the hottest path: it is encoded
once per change and answered from bytes, with an ETag and cache headers, by a small ASGI
layer in front of the router (CounterFastPath, declared in app.fast_paths beside the route
table); the route below answers the rest (404s)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from widget.campaigns import Campaign
from widget.delivery import FastPath
from widget.service import Service, service_of
from widget.store import StoreError
from widget.views.guards import campaign_or_404

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


def _encode(service: Service, key: tuple[Any, ...]) -> tuple[bytes, str]:
    cached = service.counter_bodies.get(key)
    if cached is None:
        slug, title, count, goal, status = key
        body = json.dumps(
            {"slug": slug, "title": title, "count": count, "goal": goal, "status": status},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        cached = service.counter_bodies.put(key, (body, etag))
    return cached


async def counter_json(
    service: Service, campaign: Campaign, if_none_match: str
) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers of a campaign's counter JSON."""
    count = campaign.counter_offset + await service.counter.signatures(campaign.slug)
    key = (campaign.slug, campaign.title, count, campaign.goal, campaign.state)
    body, etag = _encode(service, key)
    headers = [("ETag", etag), *_COUNTER_HEADERS]
    if etag in if_none_match:
        return 304, b"", headers
    return 200, body, [("Content-Type", "application/json"), *headers]


_COUNTER_HEADERS = [
    ("Cache-Control", CACHE_CONTROL),
    ("Access-Control-Allow-Origin", "*"),
    ("Vary", "Accept-Encoding"),
]


async def campaign(request: Request) -> Response:
    found = await campaign_or_404(request)
    status, body, headers = await counter_json(
        service_of(request), found, request.headers.get("if-none-match", "")
    )
    return Response(body, status, headers=dict(headers))


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
        if_none_match = ""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        status, body, headers = await counter_json(self.service, found, if_none_match)
        raw = [(k.lower().encode(), v.encode()) for k, v in headers]
        await self.answer(scope, send, status, raw, body, own_csp=False)


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
