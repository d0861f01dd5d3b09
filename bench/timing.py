"""Does the answer's timing tell whether an address had signed? Signs N fresh addresses and
N repeats, interleaved, against a real server, and compares the two latency distributions.

    python bench/timing.py [--pairs 300]

A timing oracle would show as a repeat answering measurably faster (a peer measured here:
10 ms for a repeat, 250 ms for a first signature). This is a measurement, not a test."""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    folder = tempfile.mkdtemp()
    env = {
        **os.environ,
        "PETITION_WIDGET_MIN_FILL_SECONDS": "0",
        "PETITION_WIDGET_RATE_LIMITS": "off",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "widget", "serve", "--port", str(port), "--database", "t.db"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"Accept": "application/json"}) as client:
            page = client.get("/c/belarus/embed").text
            token = re.search(r'name="token" value="([^"]+)"', page).group(1)
            form = {"token": token, "first_name": "Ann", "last_name": "Lee", "country": "CA"}
            client.post("/c/belarus/sign", data={**form, "email": "seen@example.org"})
            first, repeat = [], []
            for i in range(args.pairs):
                for email, into in ((f"new{i}@example.org", first), ("seen@example.org", repeat)):
                    started = time.perf_counter()
                    answer = client.post("/c/belarus/sign", data={**form, "email": email})
                    into.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        server.wait(10)

    def row(name: str, values: list[float]) -> str:
        q = statistics.quantiles(values, n=10)
        return f"{name:<16}{statistics.median(values):>9.2f}{q[0]:>9.2f}{q[-1]:>9.2f}"

    print(f"{'':<16}{'p50 ms':>9}{'p10 ms':>9}{'p90 ms':>9}")
    print(row("first signature", first))
    print(row("repeat", repeat))
    ratio = statistics.median(repeat) / statistics.median(first)
    print(f"median repeat / median first = {ratio:.2f} (1.00 = indistinguishable)")


if __name__ == "__main__":
    main()
