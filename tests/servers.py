"""Real server processes for the tests that need several: `python -m widget serve` on free
loopback ports, ready once /readyz says so, stopped cleanly afterwards."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import TEST_PUBLIC_KEY, TEST_SECRET

# The environment every instance shares, as in the README's "Running several instances".
SHARED = {
    "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
    "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY,
    "PETITION_WIDGET_MIN_FILL_SECONDS": "0",
}


@contextlib.contextmanager
def serving(database: str, folder: Path, count: int, **settings: str) -> Iterator[list[int]]:
    """`count` instances on one database, started together; their ports. Each one's output
    goes to folder/instance-N.log, and every instance must shut down cleanly."""
    env = {**os.environ, **SHARED}
    env.update({f"PETITION_WIDGET_{name.upper()}": value for name, value in settings.items()})
    ports = [free_port() for _ in range(count)]
    logs = [folder / f"instance-{n}.log" for n in range(count)]
    servers: list[subprocess.Popen] = []
    with contextlib.ExitStack() as stack:
        for port, log in zip(ports, logs, strict=True):
            out = stack.enter_context(log.open("w"))
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "widget", "serve", "--port", str(port),
                 "--database", database],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        try:
            for port, server in zip(ports, servers, strict=True):
                wait_until_ready(f"http://127.0.0.1:{port}", server)
            yield ports
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=20)
    for log in logs:
        assert "Application shutdown complete" in log.read_text(), log.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(base: str, server: subprocess.Popen, seconds: float = 30) -> None:
    """Poll /readyz until it says ready. A server that exits, or is not ready in time, is
    killed and the test fails with what it printed (when its output is piped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + "/readyz").status_code == 200:
                return
        time.sleep(0.02)
    exited = server.poll() is not None
    server.kill()
    output = server.communicate()[0] if server.stdout else ""
    why = "exited at start" if exited else f"was not ready within {seconds:.0f} seconds"
    raise AssertionError(f"{base} {why}: {output}")
