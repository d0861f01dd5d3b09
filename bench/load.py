"""wrk, pinned to its CPUs, and py-spy beside it: one load and its result, or its profile."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from common import HarnessError
from machine import loop_ms
from profiling import summarise_profile
from results import Result
from servers import BENCH, SERVICE_CPU, WRK_CPU, Server

LUA = BENCH / "lua"
WRK_TIMEOUT = "5s"
PROFILE_RATE = 250


class Wrk:
    """One wrk process pinned to the load CPU; `result()` waits for it and parses its report."""

    def __init__(
        self,
        label: str,
        url: str,
        connections: int,
        duration: int,
        script: str = "get.lua",
        args: Sequence[str] = (),
        cpus: str = WRK_CPU,
    ) -> None:
        self.label = label
        self.connections = connections
        self.duration = duration
        threads = len(cpus.split(","))
        cmd = ["taskset", "-c", cpus, "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
        cmd += ["--timeout", WRK_TIMEOUT, "-s", str(LUA / script), url]
        if args:
            cmd += ["--", *args]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )

    def result(self) -> Result:
        try:
            out, err = self.proc.communicate(timeout=self.duration + 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise HarnessError(f"wrk ({self.label}) did not finish") from None
        for line in out.splitlines():
            if line.startswith("BENCH_RESULT "):
                data = json.loads(line.removeprefix("BENCH_RESULT "))
                break
        else:
            raise HarnessError(f"wrk ({self.label}) printed no result:\n{out}\n{err}")
        return Result(
            label=self.label,
            connections=self.connections,
            requests=int(data["requests"]),
            seconds=data["duration_us"] / 1e6,
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            status_errors=int(data["status"]),
            socket_errors=sum(int(data[k]) for k in ("connect", "read", "write", "timeout")),
        )


def run_wrk(
    label: str,
    url: str,
    connections: int,
    duration: int,
    warmup: int,
    server: Server | None = None,
    **kw,
) -> Result:
    """wrk against `url` after a warm-up; with `server`, the server's peak memory during it,
    and the fixed loop's time on the server's CPU just before and just after (the slower)."""
    before = loop_ms(SERVICE_CPU)
    if warmup:
        Wrk("warm-up", url, connections, warmup, **kw).result()
    if server is not None:
        server.reset_peak()
    result = Wrk(label, url, connections, duration, **kw).result()
    if server is not None:
        result = replace(result, peak_mb=server.peak_mb())
    after = loop_ms(SERVICE_CPU)
    if before is not None and after is not None:
        result = replace(result, loop_ms=max(before, after))
    print(
        f"  {label}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, errors {result.errors}, peak RSS {result.peak_mb:.0f} MB",
        flush=True,
    )
    return result


def run_id() -> str:
    return f"{random.getrandbits(40):010x}"


def profile(server: Server, label: str, wrk: Wrk, seconds: int, out_dir: Path) -> None:
    """Sample the server with py-spy while `wrk` loads it; print where the time goes."""
    raw = out_dir / f"{label}.txt"
    beside = Path(sys.executable).parent / "py-spy"
    spy_bin = str(beside) if beside.exists() else "py-spy"
    cmd = ["taskset", "-c", WRK_CPU, spy_bin, "record", "--pid", str(server.pid)]
    cmd += [
        "--duration",
        str(seconds),
        "--rate",
        str(PROFILE_RATE),
        "--format",
        "raw",
        "-o",
        str(raw),
    ]
    try:
        spy = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        wrk.result()
        print("  py-spy is not installed (pip install py-spy): no profile")
        return
    wrk.result()
    if spy.returncode != 0 or not raw.exists():
        print(f"  py-spy failed ({label}): {spy.stderr.strip()[-300:]}")
        return
    print(summarise_profile(raw, label, seconds, PROFILE_RATE), flush=True)
