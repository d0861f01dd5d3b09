"""What Python's garbage collector costs a signing load: as `serve` runs the app (the heap
frozen at start and the youngest generation collected less often, widget/heap.py), with the
heap frozen only, and with Python's defaults.

    python bench/gc_pauses.py [--seconds 20] [--runs 2] [--connections 64]

Each run starts `petition-widget serve` (one uvicorn worker, CPU 0, a fresh folder) inside
this script, which records every collection's pause in the served process, and signs with
wrk (CPU 1) for --seconds after a 3 s warm-up. The ways alternate, so that a host that gives
the CPU unevenly slows each alike. The table: signatures a second, p50 and p99, the full
(generation 2) collections during the run (how many, their total and the longest) and all
collections' total. The start's own collection (the one before freezing) falls outside the
run.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

from common import HarnessError
from load import Wrk, run_id
from servers import SLUG, Server, bench_env, fetch_token

# As `serve` runs it (widget/heap.py); the heap frozen but the youngest generation at Python's
# threshold; Python's defaults.
MODES = ("as served", "frozen only", "Python's defaults")


def serve(mode: str, port: str, database: str) -> None:
    """The server side: `serve` as the CLI runs it, every collection timed; the pauses go to
    stdout (the server's log) when it stops, each with the monotonic time it ended."""
    pauses: list[tuple[int, float, float]] = []
    started: list[float] = []

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.monotonic()]
        elif started:
            ended = time.monotonic()
            pauses.append((info["generation"], ended, ended - started[0]))

    def report() -> None:
        print("GC_PAUSES " + json.dumps(pauses), flush=True)

    # widget/heap.py still collects once at start, whatever the mode.
    if mode != "as served":
        gc.set_threshold = lambda *_: None
    if mode == "Python's defaults":
        gc.freeze = lambda: None
    gc.callbacks.append(timed)
    atexit.register(report)
    # uvicorn raises the SIGTERM it caught again once it has stopped, which skips atexit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from widget.cli import main

    main(["serve", "--host", "127.0.0.1", "--port", port, "--database", database])


def measure(mode: str, seconds: int, connections: int) -> dict[str, float]:
    # The folder (its database, keys and log) goes when the run is measured.
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as name:
        folder = Path(name)
        argv = [sys.executable, __file__, "--serve", mode, "{port}", str(folder / "w.db")]
        server = Server("gc", argv, folder, bench_env())
        with server.running():
            token = fetch_token(server)
            url = f"{server.base}/c/{SLUG}/sign"
            Wrk("warm-up", url, connections, 3, "sign.lua", (token, run_id())).result()
            begin = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the server's process
            result = Wrk(mode, url, connections, seconds, "sign.lua", (token, run_id())).result()
            end = time.monotonic()
        during = [(g, p) for g, ended, p in _pauses(server) if begin <= ended <= end]
    full = [p for g, p in during if g == 2]
    return {
        "rps": result.rps,
        "p50": result.p50_ms,
        "p99": result.p99_ms,
        "errors": result.status_errors + result.socket_errors,
        "full": len(full),
        "full_ms": sum(full) * 1000,
        "max_ms": max(full, default=0) * 1000,
        "all_ms": sum(p for _, p in during) * 1000,
    }


def _pauses(server: Server) -> list[tuple[int, float, float]]:
    for line in server.log.read_text().splitlines():
        if line.startswith("GC_PAUSES "):
            return [(int(g), e, p) for g, e, p in json.loads(line.removeprefix("GC_PAUSES "))]
    raise HarnessError(f"the server reported no pauses; log:\n{server.tail()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2, help="runs of each way, alternating")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--serve", nargs=3, metavar=("MODE", "PORT", "DATABASE"), help="internal")
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    rows = []
    for _ in range(args.runs):
        for mode in MODES:
            rows.append((mode, measure(mode, args.seconds, args.connections)))
            print(f"  {mode}: {rows[-1][1]}", file=sys.stderr, flush=True)
    print(f"\nsigning, {args.connections} connections, {args.seconds} s a run, one core\n")
    print(
        "| heap | signatures/s | p50 ms | p99 ms | errors | full collections | their total ms "
        "| longest ms | all collections ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, r in rows:
        print(
            f"| {mode} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']:.0f} "
            f"| {r['full']:.0f} | {r['full_ms']:.0f} | {r['max_ms']:.1f} | {r['all_ms']:.0f} |"
        )


if __name__ == "__main__":
    try:
        main()
    except HarnessError as exc:
        sys.exit(f"gc_pauses: {exc}")
