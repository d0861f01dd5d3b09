"""Does a flood of failed logins slow readers down? Measures the counter's latency (p50, p90,
max) on a quiet server, then while N failed logins arrive at once from N different addresses
(through a trusted proxy's X-Forwarded-For, so that no per-network wait spares the password
check: the worst case, an adversary with many addresses). The target: the counter's p90
during the flood stays within a few times its quiet value.

    python bench/login_flood.py [--logins 200] [--reads 400]

--reads is the quiet sample; during the flood the counter is read until the flood is over.

The server is `petition-widget serve` on SQLite with the real scrypt cost, in a temporary
folder. A measurement, not a test: run it on a quiet machine."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import httpx
from common import free_port

CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "a long enough password for the bench"


def start(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "PETITION_WIDGET_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    subprocess.run(
        [sys.executable, "-m", "widget", "operator", "add", "op@example.org", "--password-stdin"],
        input=(PASSWORD + "\n").encode(), cwd=folder, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "widget", "serve", "--port", str(port)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/readyz").status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


async def reads(client: httpx.AsyncClient, n: int) -> list[float]:
    """n counter reads, one after another: each one's latency in ms."""
    found = []
    for _ in range(n):
        began = time.perf_counter()
        response = await client.get("/api/campaigns/belarus")
        response.raise_for_status()
        found.append((time.perf_counter() - began) * 1000)
    return found


async def failed_login(client: httpx.AsyncClient, n: int) -> int:
    address = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
    jar = httpx.Cookies()
    page = await client.get("/admin/login", headers=address, cookies=jar)
    jar.update(page.cookies)
    token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    answer = await client.post(
        "/admin/login", headers=address, cookies=jar,
        data={"csrf": token, "email": f"nobody{n}@example.org", "password": "wrong guess!!"},
    )  # fmt: skip
    return answer.status_code


def attack(base: str, logins: int) -> list[int]:
    async def flood() -> list[int]:
        limits = httpx.Limits(max_connections=logins)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            return await asyncio.gather(*(failed_login(client, i) for i in range(logins)))

    return asyncio.run(flood())


def summary(name: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=10)
    return (
        f"{name:<24} p50 {statistics.median(ms):7.1f} ms  p90 {q[8]:7.1f} ms  max {max(ms):7.1f} ms"
    )


async def run(logins: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server, base = start(folder)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=120) as reader:
                await reads(reader, 50)  # warm up
                quiet = await reads(reader, n)
                # The attacker in a process of its own, so that its 200 requests do not
                # queue behind the reader's in one client event loop.
                with ProcessPoolExecutor(1) as attacker:
                    began = time.perf_counter()
                    flood = asyncio.wrap_future(attacker.submit(attack, base, logins))
                    during: list[float] = []
                    while not flood.done():  # read for as long as the flood lasts
                        during += await reads(reader, 20)
                    statuses = await flood
                    took = time.perf_counter() - began
                took = time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(10)
    print(summary("counter, quiet", quiet))
    print(summary(f"counter, {logins} logins", during))
    refused = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"failed logins: {refused} in {took:.1f} s")
    ratio = statistics.quantiles(during, n=10)[8] / statistics.quantiles(quiet, n=10)[8]
    print(f"p90 during / quiet: {ratio:.1f}x (target: a few times, <= 5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--reads", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(run(args.logins, args.reads))


if __name__ == "__main__":
    main()
