"""Slow and oversized requests cannot hold the real server: slow headers and bodies are cut
off, oversized headers refused, SIGTERM ends the process within the graceful-shutdown time
whatever slow clients are connected, and a client that goes away is one log line."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import TEST_PUBLIC_KEY, TEST_SECRET
from tests.databases import live_from_start
from tests.servers import free_port, wait_until_ready
from widget import i18n

LIMITS = {
    "PETITION_WIDGET_HEADER_TIMEOUT_SECONDS": "0.5",
    "PETITION_WIDGET_BODY_TIMEOUT_SECONDS": "0.5",
    "PETITION_WIDGET_MAX_HEADER_BYTES": "4096",
    "PETITION_WIDGET_GRACEFUL_SHUTDOWN_SECONDS": "2",
}


@pytest.fixture
def server(tmp_path, request):
    """The real server with small limits (a test's parametrize can override them)."""
    port = free_port()
    live_from_start(tmp_path / "s.db")  # a signature shows in the count at once
    env = {**os.environ, "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
           "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY, **LIMITS,
           **getattr(request, "param", {})}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "widget", "serve", "--port", str(port), "--database", "s.db"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its workers (Granian's) are ended with it
    )  # fmt: skip
    wait_until_ready(f"http://127.0.0.1:{port}", process)
    yield process, port
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_slow_headers_are_cut_off(server):
    _, port = server
    with connect(port) as idle, connect(port) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the end
        assert answer(slow).startswith(b"HTTP/1.1 408 ")
        assert answer(idle).startswith(b"HTTP/1.1 408 ")  # connected, sent nothing


def test_a_kept_alive_connection_gets_the_same_limit_for_its_next_request(server):
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b"\r\n\r\nok"):  # headers and body may come apart
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 408 ")


def test_oversized_headers_are_refused(server):
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAccept-Language: " + b"fr," * 3000)
        assert answer(sock).startswith(b"HTTP/1.1 431 ")
    # 32 MB of header: cut off long before the end (the send fails once the server closes).
    with connect(port) as sock, pytest.raises((BrokenPipeError, ConnectionResetError)):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAccept-Language: ")
        for _ in range(32):
            sock.sendall(b"f" * 1024 * 1024)
    # A request with a body bigger than the header limit is fine: only headers are bounded.
    body = {"first_name": "x" * 6000}
    posted = httpx.post(f"http://127.0.0.1:{port}/c/belarus/sign", data=body)
    assert posted.status_code in (400, 422)


def test_a_slow_body_gets_408(server):
    _, port = server
    with connect(port) as sock:
        sock.sendall(
            b"POST /c/belarus/sign HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nfirst_name=A"
        )
        reply = answer(sock)  # then the server closes the connection
        assert reply.startswith(b"HTTP/1.1 408 ")
        assert b"connection: close" in reply.lower()


@pytest.mark.parametrize("server", [{"PETITION_WIDGET_BODY_TIMEOUT_SECONDS": "600"}], indirect=True)
def test_sigterm_exits_within_the_graceful_time_with_slow_clients(server):
    process, port = server
    slow = [connect(port) for _ in range(3)]
    for sock in slow:  # bodies trickling in, a byte at a time, far slower than the limit
        sock.sendall(b"POST /c/belarus/sign HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\nf")  # fmt: skip
    time.sleep(0.3)
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    took = time.monotonic() - began
    for sock in slow:
        sock.close()
    # Within the graceful time (2 s) and process exit, not the 600 s the bodies could take.
    assert took < 2 + 8, f"took {took:.1f} s to exit"
    assert "Traceback" not in output
    assert output.count("client went away") == 3


def test_accept_language_is_read_from_a_bounded_prefix():
    assert i18n.negotiate(None, "de, fr;q=0.9", "en") == "fr"
    padding = ",".join(["de"] * 200)
    assert i18n.negotiate(None, padding + ",fr", "en") == "en"  # past the prefix: not read
    huge = "x" * (32 * 1024 * 1024)
    assert i18n.negotiate(None, "ru," + huge, "en") == "ru"


async def test_a_client_that_goes_away_is_one_line(client, caplog):
    caplog.set_level(logging.INFO)
    app = client.app
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    path = "/c/belarus/sign"
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [(b"host", b"testserver"),
             (b"content-type", b"application/x-www-form-urlencoded")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80), "scheme": "http",
             "http_version": "1.1", "root_path": "", "state": {}}  # fmt: skip
    await app(scope, receive, send)
    lines = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
