"""GET /c/{slug}/preview.png: the campaign's link-preview picture (widget/preview.py), for
the Open Graph and Twitter tags of the hosted page. Drawn in a thread, once per text."""

from __future__ import annotations

import hashlib

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from widget import i18n
from widget import preview as drawing
from widget.views.guards import campaign_or_404
from widget.views.pages import reader_language

CACHE_CONTROL = "public, max-age=86400"


async def picture(request: Request) -> Response:
    campaign = await campaign_or_404(request)
    language = reader_language(request, campaign)
    content = campaign.content(language)
    call = i18n.translations(language).gettext("Add your name")
    body = await anyio.to_thread.run_sync(
        drawing.picture, content.title, content.organisation, campaign.theme_colour, call
    )
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="image/png", headers=headers)
