"""Error responses: JSON for the API and for clients that ask for it, a page for people."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from widget import i18n
from widget.i18n import N_
from widget.service import service_of

log = logging.getLogger(__name__)
UNAVAILABLE = N_("The petition is not available just now. Please try again in a moment.")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status in (204, 304):
        return Response(status_code=status, headers=exc.headers)
    phrase = HTTPStatus(status).phrase
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    ):
        return JSONResponse(
            {"error": phrase.lower().replace(" ", "_"), "message": exc.detail}, status,
            headers=exc.headers,
        )  # fmt: skip
    service = service_of(request)
    language = i18n.negotiate(
        request.query_params.get("lang"), request.headers.get("accept-language"), "en"
    )
    # A detail marked with N_() has a translation; any other text passes through unchanged.
    detail = i18n.translations(language).gettext(exc.detail) if exc.detail != phrase else ""
    html = service.templates.render(
        "error.html", language, status=status, phrase=phrase, detail=detail,
        not_found=status == 404,
    )  # fmt: skip
    return HTMLResponse(html, status, headers=exc.headers)


async def store_error(request: Request, exc: Exception) -> Response:
    """The database did not answer a request that needed it: "try again", never a 500."""
    return await http_error(request, HTTPException(503, UNAVAILABLE, {"Retry-After": "5"}))


async def client_gone(request: Request, exc: Exception) -> Response:
    """A client that went away before its request's body arrived: one line, not a traceback
    at ERROR (there is no one left to answer)."""
    log.info("client went away before sending its request body (%s %s)", request.method,
             request.url.path)  # fmt: skip
    return Response(status_code=400)
