"""wrk, pinned to its CPUs, and py-spy beside it: one load and its result, or its profile."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from common import HarnessError
from machine import loop_ms
from profiling import summarise_profile
from results import Result, merged_percentile
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
            curve=tuple((float(p), float(v)) for p, v in data["curve"]),
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
    report(result)
    return result


def report(result: Result) -> None:
    rounds = result.rounds_p99_ms
    spread = f" (rounds {min(rounds):.1f}-{max(rounds):.1f})" if rounds else ""
    print(
        f"  {result.label}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms{spread}, errors {result.errors}, "
        f"peak RSS {result.peak_mb:.0f} MB",
        flush=True,
    )


@dataclass(frozen=True)
class Load:
    """One path to load on one server; a sign load (with its token) gets a fresh run id for
    each wrk process, so that every address it signs with is new."""

    label: str
    url: str
    server: Server
    token: str | None = None
    cpus: str = WRK_CPU  # where wrk runs

    @property
    def script(self) -> str:
        return "get.lua" if self.token is None else "sign.lua"

    def wrk(self, connections: int, seconds: int, label: str | None = None) -> Wrk:
        args = () if self.token is None else (self.token, run_id())
        return Wrk(
            label or self.label, self.url, connections, seconds, self.script, args, self.cpus
        )


ROUND_SECONDS = 2


def run_in_turns(
    ours: Load, theirs: Load, connections: int, duration: int, warmup: int
) -> tuple[Result, Result]:
    """Two paths loaded in turns, ROUND_SECONDS each (theirs, ours, theirs, ours…) for about
    `duration` seconds each, so that a host that gives the CPU unevenly slows both alike.
    Each result sums its rounds (requests over seconds) with the p50 and p99 of all their
    requests; "CPU 0" is the fixed loop's time before and after them all."""
    theirs_result, ours_result = run_all_in_turns([theirs, ours], connections, duration, warmup)
    return ours_result, theirs_result


def run_all_in_turns(
    loads: list[Load], connections: int, duration: int, warmup: int
) -> list[Result]:
    """Any number of paths loaded in turns, in the order given, as run_in_turns does two."""
    before = loop_ms(SERVICE_CPU)
    for load in loads:
        if warmup:
            load.wrk(connections, warmup, "warm-up").result()
    for load in loads:
        load.server.reset_peak()
    rounds: list[list[Result]] = [[] for _ in loads]
    for _ in range(max(1, round(duration / ROUND_SECONDS))):
        for load, runs in zip(loads, rounds, strict=True):
            runs.append(load.wrk(connections, ROUND_SECONDS).result())
    after = loop_ms(SERVICE_CPU)
    slowest = max(before, after) if before is not None and after is not None else 0.0
    return [_summed(load, runs, slowest) for load, runs in zip(loads, rounds, strict=True)]


def _summed(load: Load, runs: list[Result], loop: float) -> Result:
    """One row from a load's rounds: requests over seconds, the p50 and p99 of all their
    requests (merged from each round's latency curve), the errors of all, the server's peak
    memory over them. Each round's own p99 is kept, and printed beside the row."""
    result = Result(
        label=load.label,
        connections=runs[0].connections,
        requests=sum(r.requests for r in runs),
        seconds=sum(r.seconds for r in runs),
        p50_ms=merged_percentile(runs, 50),
        p99_ms=merged_percentile(runs, 99),
        rounds_p99_ms=tuple(r.p99_ms for r in runs),
        status_errors=sum(r.status_errors for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        peak_mb=load.server.peak_mb(),
        loop_ms=loop,
    )
    report(result)
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
