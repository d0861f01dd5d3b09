"""How the bytes travel: static files under their content's digest with a year-long cache
lifetime (the loader, whose URL partners paste, keeps a short one), and gzip for what readers
load. Only what carries no secret is compressed: a response that holds a secret next to text an
attacker can choose is what BREACH reads through compression, so the signing answer (it holds
the withdrawal code), the thanks and withdrawal pages, the confirmation pages and the admin
are sent as they are."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from widget.resources import static_digest
from widget.security import every_response_headers_raw

YEAR = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"

# GET paths whose answers may be compressed: the reader pages, the loader, the counter API,
# oEmbed and the static files. Their only per-request value is the form token, which anyone
# can get for themselves.
COMPRESSIBLE = re.compile(
    r"^(?:/|/embed\.js|/oembed|/static/.+|/api/campaigns/[^/]+"
    r"|/c/[^/]+(?:/embed|/counter|/card)?)$"
)  # fmt: skip
MINIMUM_BYTES = 512


class VersionedStaticFiles(StaticFiles):
    """The static files; asked for with their current digest (?v=), cached for a year."""

    @cached_property
    def _root(self) -> Path:
        return Path(self.directory or "").resolve()

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        name = Path(full_path).resolve().relative_to(self._root).as_posix()
        current = asked == static_digest(name)
        response.headers["Cache-Control"] = YEAR if current else SHORT
        return response


class Compression:
    """gzip for the GET answers COMPRESSIBLE names, when the client accepts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_BYTES, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and COMPRESSIBLE.match(scope["path"])
        ):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class FastPath:
    """What the layers app.fast_paths declares share: which GET of their path pattern (with
    one `{slug}`) is theirs, and how they answer from bytes, with the headers SecurityHeaders
    would have added. Anything else they pass on to `app`, whose route answers it."""

    def __init__(self, app: ASGIApp, service: Any, path: str) -> None:
        self.app = app
        self.service = service
        self.prefix, _, self.suffix = path.partition("{slug}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)  # what a subclass does not answer itself

    def slug(self, scope: Scope) -> str:
        """The slug of a GET of this path; "" for anything else."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return ""
        path = scope.get("path", "")
        if not path.startswith(self.prefix) or not path.endswith(self.suffix):
            return ""
        slug = path[len(self.prefix) : len(path) - len(self.suffix)]
        return "" if "/" in slug else slug

    @staticmethod
    async def answer(
        scope: Scope,
        send: Send,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        own_csp: bool,
    ) -> None:
        https = scope.get("scheme") == "https"
        headers = [*headers, *every_response_headers_raw(https, own_csp)]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
