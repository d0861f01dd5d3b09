"""Load-test petition-widget against a bare Starlette app, with wrk, and print one table.

    python bench/run.py [--signatures N] [--duration S] [--connections C] [--quick]
                        [--profile DIR]

The service and the baseline each run one uvicorn worker (uvloop + httptools) pinned to CPU 0
in a fresh temporary folder, and are loaded in turns (load.run_in_turns); wrk runs pinned to
CPU 1. The exit status is non-zero only
when the harness itself fails (a server does not start, wrk reports nothing), never because a
target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from common import HarnessError
from counts import check_count
from load import Load, Wrk, profile, run_all_in_turns, run_id, run_in_turns, run_wrk
from machine import OtherLoad, cpu_busy
from results import Result, Row, compare, steadiness, table
from servers import (
    BOTH_CPUS,
    SLUG,
    baseline_server,
    describe_machine,
    fetch_token,
    prepare_widget,
    sync_setting,
)

NOISY = 0.10  # busy share of the CPUs before the run above which the numbers get noisy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatures", type=int, default=0, help="rows to prefill (default 0)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per path (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--quick", action="store_true", help="3 s per path: a smoke run")
    parser.add_argument("--profile", metavar="DIR", help="also sample embed and sign with py-spy")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except HarnessError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    for tool in ("wrk", "taskset"):
        if subprocess.run(["which", tool], capture_output=True, check=False).returncode:
            raise HarnessError(f"{tool} is not installed")
    if (os.cpu_count() or 1) < 2:
        raise HarnessError("needs two CPUs: the server on CPU 0, wrk on CPU 1")
    duration = 3 if args.quick else args.duration
    warmup = 1
    conns = args.connections
    half = max(1, conns // 2)
    started = time.monotonic()
    print(
        f"bench: {duration} s per path, {conns} connections, "
        f"{args.signatures:,} prefilled signatures",
        flush=True,
    )
    print(f"machine: {describe_machine()}", flush=True)
    other = OtherLoad()
    busy = cpu_busy()
    if busy is not None:
        print(f"before the run, other processes kept {busy:.0%} of the CPUs busy", flush=True)
        if busy > NOISY:
            print("warning: the machine is not idle; expect noisy numbers (p99 above all)")

    with (
        tempfile.TemporaryDirectory(prefix="bench-baseline-") as base_tmp,
        tempfile.TemporaryDirectory(prefix="bench-widget-") as tmp,
    ):
        folder = Path(tmp)
        print("petition-widget, in turns with the bare Starlette baseline:", flush=True)
        server = prepare_widget(folder, args.signatures)
        with baseline_server(Path(base_tmp)).running() as base, server.running():
            api = f"{server.base}/api/campaigns/{SLUG}"
            embed_url = f"{server.base}/c/{SLUG}/embed"
            sign_url = f"{server.base}/c/{SLUG}/sign"
            # Each path and its reference take turns (run_in_turns), so that the host's uneven
            # speed falls on both alike; the reference rows are measured once per path.
            plain = Load("baseline GET /plain", base.base + "/plain", base)
            counter, plain_c = run_in_turns(
                Load("counter JSON", api, server),
                replace(plain, label="baseline GET /plain (turns with counter)"),
                conns, duration, warmup,
            )  # fmt: skip
            embed, plain_e = run_in_turns(
                Load("embed page", embed_url, server),
                replace(plain, label="baseline GET /plain (turns with embed)"),
                conns, duration, warmup,
            )  # fmt: skip
            token = fetch_token(server)
            sign, form = run_in_turns(
                Load("sign POST", sign_url, server, token),
                Load("baseline POST /form (turns with sign)", base.base + "/form", base, "dummy"),
                conns, duration, warmup,
            )  # fmt: skip
            count_ok, count_detail = check_count(server, folder / "petition-widget.db")
            print("  counter while signing:", flush=True)
            both = (
                Wrk("counter while signing", api, half, duration),
                Wrk("sign while counting", sign_url, half, duration, "sign.lua", (token, run_id())),
            )
            counter_busy, sign_busy = (w.result() for w in both)
            for r in (counter_busy, sign_busy):
                print(
                    f"    {r.label}: {r.rps:,.0f} req/s, p99 {r.p99_ms:.2f} ms, errors {r.errors}"
                )
            final_ok, final_detail = check_count(server, folder / "petition-widget.db")
            if args.profile:
                out_dir = Path(args.profile).resolve()
                out_dir.mkdir(parents=True, exist_ok=True)
                seconds = max(3, duration)
                profile(
                    server, "embed", Wrk("embed", embed_url, conns, seconds + 1), seconds, out_dir
                )
                sign_wrk = Wrk("sign", sign_url, conns, seconds + 1, "sign.lua", (token, run_id()))
                profile(server, "sign", sign_wrk, seconds, out_dir)

    rows = [
        Row(plain_c),
        compare(counter, plain_c, "baseline plain", 0.90, p99_factor=1.5),
        Row(plain_e),
        compare(embed, plain_e, "baseline plain", 0.70),
        Row(form),
        compare(sign, form, "baseline form", 0.50, p99_max_ms=50, zero_errors=True),
        compare(counter_busy, counter, "counter alone", 0.50),
        Row(sign_busy, note="", versus="(load beside it)"),
    ]
    rows += sync_rows(args, duration, warmup, conns)
    checks = [("after sign", count_ok, count_detail), ("at the end", final_ok, final_detail)]
    for more_rows, more_checks in (
        worker_rows(args, duration, warmup, conns),
        granian_rows(args, duration, warmup, conns, (counter, embed, sign)),
    ):
        rows += more_rows
        checks += more_checks

    print()
    print(table(rows))
    print()
    if (steady := steadiness(rows)) is not None:
        print(steady)
    verdict = "yes" if all(ok for _, ok, _ in checks) else "no"
    details = "; ".join(f"{when}: {detail}" for when, _, detail in checks)
    print(f"count = rows: {verdict} ({details})")
    print(f"wall time {time.monotonic() - started:.0f} s")
    during = other.share()
    if during is not None:
        print(f"other processes kept {during:.0%} of the CPUs busy during the run")
        if during > NOISY:
            print("warning: the machine was not idle; these numbers are noisy (p99 above all)")
    return 0


# The two-worker server again, each worker on a CPU of its own (widget/cpus.py).
PINNED = {"PETITION_WIDGET_PIN_WORKERS": "1"}


def worker_rows(
    args: argparse.Namespace, duration: int, warmup: int, conns: int
) -> tuple[list[Row], list[tuple[str, bool, str]]]:
    """One worker against two, unpinned and pinned to a CPU each (PETITION_WIDGET_PIN_WORKERS),
    each on a fresh database, loaded in turns: the servers and wrk (two threads) share both
    CPUs here, so neither has a core to itself. Two workers are compared with one run the same
    way. Also count = rows."""
    print("workers, in turns (the server and wrk share both CPUs):", flush=True)
    kinds = {
        "1 worker(s)": (1, {}), "2 worker(s)": (2, {}),
        "1 worker(s) pinned": (1, PINNED), "2 worker(s) pinned": (2, PINNED),
    }  # fmt: skip
    with contextlib.ExitStack() as stack:
        servers = {}
        for n, (label, (workers, env)) in enumerate(kinds.items()):
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-w{n}-")))
            server = prepare_widget(tmp, args.signatures, env, workers=workers, cpus=BOTH_CPUS)
            servers[label] = (stack.enter_context(server.running()), tmp)

        def load(label: str, path: str, token: str | None = None) -> Load:
            server = servers[label][0]
            name = f"{'embed page' if token is None else 'sign POST'}, {label}"
            url = f"{server.base}/c/{SLUG}/{path}"
            return Load(f"{name}, shared CPUs", url, server, token, BOTH_CPUS)

        embed1, embed2, embed1p, embed2p = run_all_in_turns(
            [load(label, "embed") for label in kinds], conns, duration, warmup
        )
        sign1, sign2, sign1p, sign2p = run_all_in_turns(
            [load(label, "sign", fetch_token(servers[label][0])) for label in kinds],
            conns, duration, warmup,
        )  # fmt: skip
        checks = []
        for label, (server, tmp) in servers.items():
            ok, detail = check_count(server, tmp / "petition-widget.db")
            checks.append((label, ok, detail))
    rows = [
        Row(embed1),
        compare(embed2, embed1, "1 worker", 1.60),
        Row(embed1p),
        compare(embed2p, embed1p, "1 pinned", 1.60),
        Row(sign1),
        compare(sign2, sign1, "1 worker", 1.60),
        Row(sign1p),
        compare(sign2p, sign1p, "1 pinned", 1.60),
    ]
    return rows, checks


def granian_rows(
    args: argparse.Namespace,
    duration: int,
    warmup: int,
    conns: int,
    uvicorn: tuple[Result, Result, Result],
) -> tuple[list[Row], list[tuple[str, bool, str]]]:
    """`serve --server granian` (one worker, CPU 0) against uvicorn's rows above, where
    Granian is installed (the granian extra)."""
    if importlib.util.find_spec("granian") is None:
        return [Row(None, note="granian: not installed (pip install granian)")], []
    print("granian (one worker):", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-granian-") as tmp:
        server = prepare_widget(Path(tmp), args.signatures, http_server="granian")
        with server.running():
            base = f"{server.base}/c/{SLUG}"
            api = f"{server.base}/api/campaigns/{SLUG}"
            counter = run_wrk("granian: counter JSON", api, conns, duration, warmup, server)
            embed = run_wrk("granian: embed page", base + "/embed", conns, duration, warmup, server)
            sign = run_wrk(
                "granian: sign POST", base + "/sign", conns, duration, warmup, server,
                script="sign.lua", args=(fetch_token(server), run_id()),
            )  # fmt: skip
            ok, detail = check_count(server, Path(tmp) / "petition-widget.db")
    rows = [
        Row(ours, versus="uvicorn", ratio=f"{ours.rps / theirs.rps:.2f}" if theirs.rps else "")
        for ours, theirs in zip((counter, embed, sign), uvicorn, strict=True)
    ]
    return rows, [("granian", ok, detail)]


def sync_rows(args: argparse.Namespace, duration: int, warmup: int, conns: int) -> list[Row]:
    """synchronous=FULL against NORMAL for signing, each on a fresh service and database,
    loaded in turns."""
    variable = sync_setting()
    if variable is None:
        return [Row(None, note="sign, synchronous FULL vs NORMAL: n/a (no setting yet)")]
    print(f"synchronous, in turns (via {variable}):", flush=True)
    with contextlib.ExitStack() as stack:
        loads = {}
        for mode in ("FULL", "NORMAL"):
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{mode}-"))
            server = prepare_widget(Path(tmp), args.signatures, {variable: mode})
            stack.enter_context(server.running())
            url = f"{server.base}/c/{SLUG}/sign"
            loads[mode] = Load(f"sign POST synchronous={mode}", url, server, fetch_token(server))
        normal, full = run_in_turns(loads["NORMAL"], loads["FULL"], conns, duration, warmup)
    ratio = normal.rps / full.rps if full.rps else 0.0
    return [Row(full), Row(normal, versus="synchronous=FULL", ratio=f"{ratio:.2f}")]


if __name__ == "__main__":
    sys.exit(main())
