"""The demo partner page at / and the loader script partners paste."""

from __future__ import annotations

import hashlib

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from widget import i18n, security
from widget.security import own_origin
from widget.service import service_of
from widget.snippets import snippet
from widget.urls import URLs

DEMO_CAMPAIGN = "belarus"
DEMO_PARTNER = "demo"


async def home(request: Request) -> Response:
    service = service_of(request)
    language = i18n.negotiate(
        request.query_params.get("lang"), request.headers.get("accept-language"), "en"
    )
    public = URLs(own_origin(request, service.settings.public_url))
    html = service.templates.render(
        "demo.html", language, slug=DEMO_CAMPAIGN, public=public,
        found=await service.campaigns.get(DEMO_CAMPAIGN) is not None,
        snippet=snippet(public, DEMO_CAMPAIGN, language, DEMO_PARTNER),
        # snippet() escapes every value it puts in: its HTML is safe to put in the page.
        live=Markup(snippet(URLs(), DEMO_CAMPAIGN, language, DEMO_PARTNER)),  # noqa: S704
    )  # fmt: skip
    csp = security.content_security_policy(frame_src="'self'")
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


async def embed_js(request: Request) -> Response:
    body = service_of(request).embed_js
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
