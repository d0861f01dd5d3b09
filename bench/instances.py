"""Signing throughput on PostgreSQL with one instance and with three sharing one database.

    python bench/instances.py [--instances 1,3] [--duration S] [--connections C]
                              [--database postgresql://…] [--tool wrk|httpx]

Each run gets a fresh schema (dropped afterwards) and N `petition-widget serve` processes on
loopback ports, with the same secret and public key, rate limits off and no minimum fill time.
The load is POST /c/belarus/sign with a unique address per request and a token read from the
first instance, for --duration seconds after a 2 s warm-up, spread evenly over the instances:
one wrk process per instance (C/N connections each, latency distributions merged), or, without
/usr/bin/wrk, an asyncio + httpx generator. Prints req/s, p50, p99, errors (status >= 400,
socket errors, timeouts) and whether every instance's count equals the rows stored. Timings
live here, never in the tests.

    python bench/instances.py --hot-row [--writers W] [--duration S]

compares the counter kept in one row per campaign with the 16 shard rows, without HTTP: W
stores (as W instances' writers) in this one process, each fed by 8 concurrent callers, on a
fresh schema each; it sets widget.store.postgres.SHARDS in this process only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from common import free_port, made_live

from widget import sealing
from widget.campaigns import load_file
from widget.resources import resource
from widget.sealing import SealedSignature
from widget.store import open_store, postgres

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
WRK = "/usr/bin/wrk"
WARMUP = 2
OFFSET = 785  # the Belarus campaign's counter offset
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')

SIGN_LUA = r"""
-- POST the signing form with a unique address per request; print one BENCH_RESULT line.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local prefix
local sent = 0
function init(args)
  run = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
  prefix = "token=" .. args[1] .. "&lang=en&view=embed&first_name=Bench&last_name=Signer"
    .. "&country=CA&email="
end

function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil,
    prefix .. string.format("b%s-%d-%d%%40example.org", run, tid or 0, sent))
end

function done(summary, latency, requests)
  local e = summary.errors
  local q = {}
  for i = 1, 999 do q[#q + 1] = string.format("%.0f", latency:percentile(i / 10)) end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"status":%d,"socket":%d,"quantiles":[%s]}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    table.concat(q, ",")))
end
"""


@dataclass
class Load:
    """One load run: requests, seconds, errors, and latencies in microseconds as
    (value, weight) pairs, so that several generators' distributions merge."""

    requests: int
    seconds: float
    errors: int
    latencies: list[tuple[float, float]]

    def percentile(self, p: float) -> float:
        total = sum(weight for _, weight in self.latencies)
        seen = 0.0
        for value, weight in sorted(self.latencies):
            seen += weight
            if seen >= total * p / 100:
                return value
        return float("nan")

    @staticmethod
    def merge(loads: Sequence[Load]) -> Load:
        return Load(
            sum(load.requests for load in loads),
            max(load.seconds for load in loads),
            sum(load.errors for load in loads),
            [pair for load in loads for pair in load.latencies],
        )


def schema_url(database: str, schema: str) -> str:
    return f"{database}{'&' if '?' in database else '?'}schema={schema}"


async def drop_schema(database: str, schema: str) -> None:
    db = await asyncpg.connect(database)
    try:
        await db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await db.close()


async def stored(database: str, schema: str) -> tuple[int, int]:
    """(rows in signatures, the sum of the campaign's count shards)."""
    db = await asyncpg.connect(database, server_settings={"search_path": schema})
    try:
        rows = await db.fetchval("SELECT count(*) FROM signatures")
        counted = await db.fetchval("SELECT coalesce(sum(n), 0) FROM campaign_counts")
        return rows, counted
    finally:
        await db.close()


@contextlib.contextmanager
def instances(n: int, url: str, folder: Path) -> Iterator[list[str]]:
    """N `serve` processes on one database; their base URLs."""
    env = {
        **os.environ,
        "PETITION_WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
        "PETITION_WIDGET_PUBLIC_KEY": sealing.generate_keypair()[1],
        "PETITION_WIDGET_MIN_FILL_SECONDS": "0",
        "PETITION_WIDGET_RATE_LIMITS": "off",
    }
    ports = [free_port() for _ in range(n)]
    servers = []
    try:
        for i, port in enumerate(ports):
            log = (folder / f"instance-{i}.log").open("w")
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "widget", "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--database", url],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, server in zip(bases, servers, strict=True):
            wait_ready(base, server)
        yield bases
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def wait_ready(base: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bench: an instance exited at start (status {server.returncode})")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"bench: {base} was not ready within {seconds:.0f} s")


def fetch_token(base: str) -> str:
    page = httpx.get(base + "/c/belarus/embed", timeout=10)
    match = TOKEN_RE.search(page.text)
    if match is None:
        raise SystemExit("bench: no token in the embed page")
    return match.group(1)


def wrk_load(bases: list[str], token: str, connections: int, seconds: int, tag: str) -> Load:
    """One wrk per instance, all at once."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "sign.lua"
        script.write_text(SIGN_LUA)
        each = max(1, connections // len(bases))
        runs = []
        for i, base in enumerate(bases):
            runs.append(subprocess.Popen(
                [WRK, "-t1", f"-c{each}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                 base + "/c/belarus/sign", "--", token, f"{tag}{i}"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ))  # fmt: skip
        loads = []
        for run in runs:
            output, _ = run.communicate(timeout=seconds + 60)
            line = next((x for x in output.splitlines() if x.startswith("BENCH_RESULT ")), None)
            if line is None:
                raise SystemExit(f"bench: wrk printed no result:\n{output}")
            data = json.loads(line.removeprefix("BENCH_RESULT "))
            weight = data["requests"] / len(data["quantiles"])
            loads.append(
                Load(
                    data["requests"],
                    data["duration_us"] / 1e6,
                    data["status"] + data["socket"],
                    [(float(q), weight) for q in data["quantiles"]],
                )
            )
        return Load.merge(loads)


def httpx_load(bases: list[str], token: str, connections: int, seconds: int, tag: str) -> Load:
    """C workers, each with its own instance in turn, for `seconds`."""

    async def run() -> Load:
        latencies: list[tuple[float, float]] = []
        errors = 0
        stop = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=connections)
        clients = [httpx.AsyncClient(base_url=b, timeout=10, limits=limits) for b in bases]

        async def worker(w: int) -> None:
            nonlocal errors
            client = clients[w % len(clients)]
            n = 0
            while time.monotonic() < stop:
                n += 1
                form = {"token": token, "lang": "en", "view": "embed", "first_name": "Bench",
                        "last_name": "Signer", "country": "CA",
                        "email": f"b{tag}-{w}-{n}@example.org"}  # fmt: skip
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/c/belarus/sign", data=form, headers={"Accept": "application/json"}
                    )
                    errors += response.status_code >= 400
                except httpx.HTTPError:
                    errors += 1
                latencies.append(((time.perf_counter() - started) * 1e6, 1.0))

        began = time.monotonic()
        await asyncio.gather(*(worker(w) for w in range(connections)))
        for client in clients:
            await client.aclose()
        return Load(len(latencies), time.monotonic() - began, errors, latencies)

    return asyncio.run(run())


def count_matches(bases: list[str], rows: int, counted: int, cache_seconds: float = 2.0) -> bool:
    """Every instance's count equals the offset plus the rows stored, once the counter cache
    has expired, and the shards add up to the rows."""
    time.sleep(cache_seconds + 0.5)
    reported = [httpx.get(b + "/api/campaigns/belarus").json()["count"] for b in bases]
    return counted == rows and all(count == OFFSET + rows for count in reported)


@dataclass
class Row:
    instances: int
    connections: int
    load: Load
    consistent: bool


def bench(n: int, args: argparse.Namespace, tool: str, folder: Path) -> Row:
    schema = "bench_" + secrets.token_hex(4)
    url = schema_url(args.database, schema)
    try:
        asyncio.run(made_live(url))
        with instances(n, url, folder) as bases:
            token = fetch_token(bases[0])
            generate = wrk_load if tool == "wrk" else httpx_load
            generate(bases, token, args.connections, WARMUP, f"w{n}")
            load = generate(bases, token, args.connections, args.duration, f"m{n}")
            rows, counted = asyncio.run(stored(args.database, schema))
            consistent = count_matches(bases, rows, counted)
        print(f"  {n} instance(s): {load.requests / load.seconds:.0f} req/s", file=sys.stderr)
        return Row(n, args.connections, load, consistent)
    finally:
        asyncio.run(drop_schema(args.database, schema))


def table(rows: Sequence[Row]) -> str:
    head = ("instances", "conns", "req/s", "p50 ms", "p99 ms", "errors", "count = rows")
    body = [
        (str(r.instances), str(r.connections), f"{r.load.requests / r.load.seconds:.0f}",
         f"{r.load.percentile(50) / 1000:.1f}", f"{r.load.percentile(99) / 1000:.1f}",
         str(r.load.errors), "yes" if r.consistent else "NO")
        for r in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = [head, tuple("-" * w for w in widths), *body]
    return "\n".join("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
                     + " |" for line in lines)  # fmt: skip


def describe(tool: str, args: argparse.Namespace, warmup: int = WARMUP) -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    version = asyncio.run(_server_version(args.database))
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs ({cpu}); "
        f"Python {platform.python_version()}; PostgreSQL {version}; load: {tool}; "
        f"{args.duration} s per run" + (f" after a {warmup} s warm-up" if warmup else "")
    )


async def _server_version(database: str) -> str:
    db = await asyncpg.connect(database)
    try:
        return await db.fetchval("SHOW server_version")
    finally:
        await db.close()


async def hot_row(database: str, shards: int, writers: int, seconds: int) -> tuple[float, bool]:
    """Signatures per second with `writers` group-committing stores on one database, and
    whether the count came out exact."""
    postgres.SHARDS = shards
    schema = "bench_" + secrets.token_hex(4)
    stores = [open_store(schema_url(database, schema)) for _ in range(writers)]
    try:
        for store in stores:
            await store.open()
        await stores[0].save_campaign(load_file(resource("campaigns") / "belarus.toml"))
        signed_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        stored = 0
        stop = time.monotonic() + seconds

        async def caller(k: int) -> None:
            nonlocal stored
            while time.monotonic() < stop:
                await stores[k % writers].add_signature(SealedSignature(
                    "belarus", secrets.token_bytes(32), secrets.token_bytes(32),
                    secrets.token_bytes(120), None, "CA", False, None, False, signed_at,
                ))  # fmt: skip
                stored += 1

        began = time.monotonic()
        await asyncio.gather(*(caller(k) for k in range(writers * 8)))
        rate = stored / (time.monotonic() - began)
        exact = (await stores[0].counts())["belarus"] == stored
        return rate, exact
    finally:
        for store in stores:
            await store.close()
        await drop_schema(database, schema)


def hot_row_table(args: argparse.Namespace) -> str:
    lines = ["| counter rows | writers | signatures/s | count exact |", "| --- | --- | --- | --- |"]
    for shards in (1, postgres.SHARDS):
        rate, exact = asyncio.run(hot_row(args.database, shards, args.writers, args.duration))
        lines.append(f"| {shards} | {args.writers} | {rate:.0f} | {'yes' if exact else 'NO'} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", default="1,3", help="comma-separated (default 1,3)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=48, help="in total (default 48)")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="a PostgreSQL URL")
    parser.add_argument("--tool", choices=("wrk", "httpx"), help="default: wrk if installed")
    parser.add_argument("--hot-row", action="store_true", help="one counter row vs the shards")
    parser.add_argument("--writers", type=int, default=12, help="for --hot-row (default 12)")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be 1 to 120 seconds")
    if args.hot_row:
        print(describe("store level, no HTTP", args, warmup=0))
        print()
        print(hot_row_table(args))
        return 0
    tool = args.tool or ("wrk" if shutil.which(WRK) else "httpx")
    counts = [int(n) for n in args.instances.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        rows = [bench(n, args, tool, Path(folder)) for n in counts]
    print(describe(tool, args))
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
