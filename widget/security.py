"""Response headers (CSP, Referrer-Policy, nosniff, HSTS), the Origin check on form posts, and
the request body limit."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from widget import origins
from widget.campaigns import ANY_ORIGIN

TOO_LARGE = "Request body too large."
TOO_SLOW = "The request's body took too long to arrive."


def content_security_policy(
    frame_ancestors: Iterable[str] = ("'none'",),
    style_hash: str | None = None,
    frame_src: str = "'none'",
    sealed_off: bool = False,
) -> str:
    """Our pages load nothing from any other origin: 'self' everywhere and no inline script.
    The one inline style (a campaign's theme colour) is allowed by its hash. `sealed_off`:
    the page that opens exports with the operator's private key may compile libsodium's
    WebAssembly, and may send nothing anywhere (no fetch, no form, no image)."""
    style = f"'self' {style_hash}" if style_hash else "'self'"
    script, connect, form, image = "'self'", "'self'", "'self'", "'self' data:"
    if sealed_off:
        script, connect, form, image = "'self' 'wasm-unsafe-eval'", "'none'", "'none'", "'none'"
    return (
        f"default-src 'none'; script-src {script}; style-src {style}; img-src {image}; "
        f"connect-src {connect}; form-action {form}; base-uri 'none'; frame-src {frame_src}; "
        f"frame-ancestors {' '.join(frame_ancestors)}"
    )


def frame_ancestors(allowed_origins: Iterable[str]) -> list[str]:
    """The CSP frame-ancestors sources for a campaign's allowed embedding origins."""
    found = list(allowed_origins)
    if ANY_ORIGIN in found:
        return ["*"]
    return ["'self'", *filter(origins.is_origin, found)]


def trusted_hosts(allowed_origins: Iterable[str], partner_origins: Iterable[str]) -> list[str]:
    """The host pages that may hear about a signature: a campaign's explicit origins and
    registered partners' origins. `*` lets any page frame the widget, but trusts none.
    Anything that is not exactly an origin (stored by an older version) is left out here too,
    as in frame_ancestors: it must never reach a header or the page."""
    found = dict.fromkeys([*allowed_origins, *partner_origins])
    return [o for o in found if o != ANY_ORIGIN and origins.is_origin(o)]


def own_origin(request: Request, public_url: str | None) -> str:
    if public_url:
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.url.scheme}://{request.url.netloc}"


def origin_allowed(request: Request, public_url: str | None) -> bool:
    """A form post must come from our own pages. No Origin header (old browsers, scripts that
    are not browsers) is let through; `null` and every other origin are refused."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.lower() == own_origin(request, public_url).lower()


def every_response_headers(https: bool) -> list[tuple[str, str]]:
    """The headers every response carries (a response may set its own CSP)."""
    headers = [
        ("Content-Security-Policy", content_security_policy()),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


@functools.cache
def every_response_headers_raw(https: bool, own_csp: bool) -> tuple[tuple[bytes, bytes], ...]:
    """every_response_headers as ASGI sends them, without the CSP for a response that has its
    own: for the fast paths, which answer before SecurityHeaders would add them."""
    headers = every_response_headers(https)
    if own_csp:
        headers = [(k, v) for k, v in headers if k != "Content-Security-Policy"]
    return tuple((k.lower().encode(), v.encode()) for k, v in headers)


class SecurityHeaders:
    """Adds the headers every response carries; a response may set its own CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if https:  # the admin session cookie travels only over HTTPS when we are on it
                    headers = [
                        (k, v + b"; secure" if k == b"set-cookie" and b"secure" not in v else v)
                        for k, v in headers
                    ]
                present = {name.lower() for name, _ in headers}
                headers += (
                    h for h in every_response_headers_raw(https, False) if h[0] not in present
                )
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HostGuard:
    """With a public URL set, a request for any other host is refused (400) before anything
    else runs: the share links and the Origin check on signing follow the public URL, and a
    name that only resolves to us by DNS rebinding gets nothing. Health checks answer on any
    name, for load balancers that ask by address. The port is not compared: a proxy may pass
    the name on without it (nginx's `$host`)."""

    def __init__(self, app: ASGIApp, public_url: str, exempt: Iterable[str]) -> None:
        self.app = app
        self.host = _host_name(urlsplit(public_url).netloc.encode())
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") not in self.exempt:
            host = next((v for k, v in scope["headers"] if k == b"host"), b"")
            if _host_name(host) != self.host:
                await _plain(send, 400, "This service does not answer for that host name.")
                return
        await self.app(scope, receive, send)


def _host_name(host: bytes) -> bytes:
    """A Host header's name, lower case, without its port ([::1]:8000 gives [::1])."""
    host = host.strip().lower()
    if host.startswith(b"["):
        return host.partition(b"]")[0] + b"]"
    return host.partition(b":")[0]


class BodyLimit:
    """Answers 413 to a request body over `max_bytes`, whether declared or streamed, and 408
    to one that has not all arrived `timeout` seconds after the request began."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 20.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await _too_large(send)
                return
        received = 0
        deadline = asyncio.get_running_loop().time() + self.timeout
        complete = False

        async def limited_receive() -> Message:
            # A streamed body has no length up front: count it as it arrives. The exceptions
            # reach Starlette's exception middleware as an ordinary 413 or 408. Once the body
            # is in, waiting for the client to go away (as streamed exports do) has no limit.
            nonlocal received, complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, TOO_SLOW, {"Connection": "close"}) from None
            except asyncio.CancelledError:
                # The server is stopping and its graceful time is over while this client was
                # still sending: the request ends as if the client had gone (one log line),
                # rather than as a traceback. Nothing had been done with it yet.
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                raise ClientDisconnect from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, TOO_LARGE)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)


async def _too_large(send: Send) -> None:
    await _plain(send, 413, TOO_LARGE)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
