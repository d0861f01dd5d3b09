"""The bare Starlette app the widget is measured against: the same server stack (uvicorn with
uvloop and httptools, one worker), no middleware, no templates, no database."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route


async def plain(request: Request) -> Response:
    return PlainTextResponse("ok")


async def form(request: Request) -> Response:
    body = await request.body()
    fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=32))
    return RedirectResponse(f"/thanks?lang={fields.get('lang', 'en')}", 303)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/plain", plain),
        Route("/form", form, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
