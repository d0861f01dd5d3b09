"""`serve --server granian`: the real server under Granian serves readers and signatures,
keeps the bounds on slow and oversized requests, and ends within the graceful time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import signer
from tests.test_slow_clients import answer, connect, server  # noqa: F401 (the fixture)

GRANIAN = {"PETITION_WIDGET_SERVER": "granian", "PETITION_WIDGET_MIN_FILL_SECONDS": "0"}
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.mark.parametrize("server", [GRANIAN], indirect=True)
def test_granian_serves_readers_and_signatures(server):  # noqa: F811
    _, port = server
    base = f"http://127.0.0.1:{port}"
    embed = httpx.get(f"{base}/c/belarus/embed?lang=fr", headers={"accept-encoding": "gzip"})
    assert embed.status_code == 200 and embed.headers["content-encoding"] == "gzip"
    assert "785" in embed.text and "x-content-type-options" in embed.headers
    assert embed.headers["server"] == "granian"  # Granian names itself (README, no setting)
    token = TOKEN.search(embed.text).group(1)
    signed = httpx.post(
        f"{base}/c/belarus/sign",
        data={**signer(1), "token": token},
        headers={"accept": "application/json"},
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["count"] == 786
    assert httpx.get(f"{base}/api/campaigns/belarus").json()["count"] == 786
    assert httpx.get(f"{base}/c/nowhere/embed").status_code == 404


@pytest.mark.parametrize("server", [GRANIAN], indirect=True)
def test_granian_keeps_the_bounds_on_slow_and_oversized_requests(server):  # noqa: F811
    _, port = server
    began = time.monotonic()
    with connect(port) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the end
        assert answer(slow) == b""  # Granian closes without a 408
    assert time.monotonic() - began < 5  # the header timeout is 0.5 s
    with connect(port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAccept-Language: " + b"fr," * 6000)
        assert answer(sock).startswith(b"HTTP/1.1 431 ")
    with connect(port) as sock:
        sock.sendall(
            b"POST /c/belarus/sign HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nfirst_name=A"
        )
        assert answer(sock).startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize(
    "server", [{**GRANIAN, "PETITION_WIDGET_BODY_TIMEOUT_SECONDS": "600"}], indirect=True
)
def test_granian_exits_within_the_graceful_time_with_slow_clients(server):  # noqa: F811
    process, port = server
    slow = [connect(port) for _ in range(3)]
    for sock in slow:
        sock.sendall(b"POST /c/belarus/sign HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\nf")  # fmt: skip
    time.sleep(0.3)
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    took = time.monotonic() - began
    for sock in slow:
        sock.close()
    assert took < 2 + 8, f"took {took:.1f} s to exit"
    assert "Traceback" not in output


def test_serve_says_when_granian_is_not_installed(tmp_path):
    code = (
        "import importlib.util, sys; importlib.util.find_spec = lambda name: None; "
        "from widget.cli import main; main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "serve", "--server", "granian", "--database", "x.db"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "granian is not installed: pip install 'petition-widget[granian]'" in done.stderr
    assert not (tmp_path / "x.db").exists()  # nothing made


def test_pinned_workers_are_refused_with_granian_rather_than_ignored(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "widget", "serve", "--server", "granian", "--database", "x.db"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PETITION_WIDGET_PIN_WORKERS": "1"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "PETITION_WIDGET_PIN_WORKERS pins uvicorn's processes only" in done.stderr
    assert not (tmp_path / "x.db").exists()  # nothing made


def test_an_unknown_server_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "widget", "serve", "--database", "x.db"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PETITION_WIDGET_SERVER": "gunicorn", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "PETITION_WIDGET_SERVER: uvicorn or granian, not 'gunicorn'" in done.stderr
