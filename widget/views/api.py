"""The JSON API and the health checks. The counter JSON is the hottest path: it is encoded
once per change and answered from bytes, with an ETag and cache headers."""

from __future__ import annotations

import hashlib
import json

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from widget.service import service_of
from widget.store import StoreError
from widget.views.embed import campaign_or_404

CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"
_encoded: dict[tuple, tuple[bytes, str]] = {}


def _encode(key: tuple) -> tuple[bytes, str]:
    cached = _encoded.get(key)
    if cached is None:
        slug, title, count, goal, status = key
        body = json.dumps(
            {"slug": slug, "title": title, "count": count, "goal": goal, "status": status},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        cached = body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        if len(_encoded) > 4096:
            _encoded.clear()
        _encoded[key] = cached
    return cached


async def campaign(request: Request) -> Response:
    found = await campaign_or_404(request)
    count = found.counter_offset + await service_of(request).counter.signatures(found.slug)
    body, etag = _encode((found.slug, found.title, count, found.goal, found.status))
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Access-Control-Allow-Origin": "*",
        "Vary": "Accept-Encoding",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


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
