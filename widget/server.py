"""How `petition-widget serve` runs the app: uvicorn, with every wait a client can impose
bounded by a setting, so that an instance exposed directly (without a proxy in front) survives
slow and oversized requests, and SIGTERM ends it within the graceful-shutdown time."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from widget.settings import Settings

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with the two bounds it lacks: how long a client may take
    to send a request's headers (from the connection's first moment, or the request's first
    byte on a kept-alive connection), and how large they may be. Either answers and closes."""

    header_timeout: float = 10.0
    max_header_bytes: int = 16 * 1024

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._await_headers()

    def _await_headers(self) -> None:
        self._awaiting_headers = True
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        # Checked after feeding: a request whose headers end within this chunk is fine, body
        # and all; headers still open past the limit are refused before they grow further.
        if self._awaiting_headers and self._header_bytes > self.max_header_bytes:
            self._refuse(431, "Request headers too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._awaiting_headers:  # the next request on a kept-alive connection
            self._await_headers()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._cancel_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def _cancel_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers:
            self._refuse(408, "The request's headers took too long.")

    def _refuse(self, status: int, message: str) -> None:
        self._awaiting_headers = False
        self._cancel_timer()
        if self.transport.is_closing():
            return
        body = message.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, _REASONS[status], len(body), body)
        )
        self.transport.close()


class FromEnvironment(BoundedHttpTools):
    """The protocol of a worker process (`serve --workers N`), which uvicorn names by its
    import path: its bounds come from the environment the workers share."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.header_timeout, self.max_header_bytes = _environment_bounds()
        super().__init__(*args, **kwargs)


@cache
def _environment_bounds() -> tuple[float, int]:
    settings = Settings.load()
    return settings.header_timeout_seconds, settings.max_header_bytes


def protocol_for(settings: Settings) -> type[BoundedHttpTools]:
    return type(
        "BoundedHttp",
        (BoundedHttpTools,),
        {"header_timeout": settings.header_timeout_seconds,
         "max_header_bytes": settings.max_header_bytes},
    )  # fmt: skip


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's keyword arguments for these settings (the app aside)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": protocol_for(settings),
        "access_log": settings.access_log,
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or None,
        "server_header": False,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
    }


def granian_app() -> Any:
    """The app of one Granian worker, from the environment, trusting a proxy's forwarded
    headers from the same addresses as uvicorn would."""
    from widget.app import create_app
    from widget.cli.common import configure_logging
    from widget.heap import ServingHeap

    configure_logging()
    settings = Settings.load()
    app = ServingHeap(create_app(settings))
    if not settings.forwarded_allow_ips:
        return app
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    trusted = [ip.strip() for ip in settings.forwarded_allow_ips.split(",")]
    return wrap_asgi_with_proxy_headers(app, trusted)


def run_granian(settings: Settings) -> None:
    """`serve` with Granian (`PETITION_WIDGET_SERVER=granian`): its workers import the app
    from the environment, as uvicorn's do with --workers. The bounds map as below; Granian
    cuts off slow headers by closing the connection (no 408), and closes an idle kept-alive
    connection on its own schedule (it has no keep-alive time to set)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    http1 = HTTP1Settings(
        header_read_timeout=min(60_000, max(1, int(settings.header_timeout_seconds * 1000))),
        max_buffer_size=max(8192, settings.max_header_bytes),
    )
    Server(
        "widget.server:granian_app", factory=True, interface=Interfaces.ASGI,
        address=settings.host, port=settings.port, workers=settings.workers,
        http=HTTPModes.http1, websockets=False, http1_settings=http1,
        backpressure=settings.max_connections, log_access=settings.access_log,
        workers_kill_timeout=settings.graceful_shutdown_seconds, respawn_failed_workers=True,
    ).serve()  # fmt: skip
