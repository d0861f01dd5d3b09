"""Load-test petition-widget against a bare Starlette app, with wrk, and print one table.

    python bench/run.py [--signatures N] [--duration S] [--connections C] [--quick]
                        [--profile DIR]

The service and the baseline each run alone, one uvicorn worker (uvloop + httptools) pinned to
CPU 0 in a fresh temporary folder; wrk runs pinned to CPU 1. The exit status is non-zero only
when the harness itself fails (a server does not start, wrk reports nothing), never because a
target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from common import free_port
from fill import fill
from machine import OtherLoad, cpu_busy
from profiling import summarise_profile
from results import Result, Row, compare, table

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "lua"
SERVICE_CPU = "0"
WRK_CPU = "1"
BOTH_CPUS = "0,1"
SLUG = "belarus"
DEFAULT_OFFSET = 785
WRK_TIMEOUT = "5s"
READY_SECONDS = 60.0
PROFILE_RATE = 250
NOISY = 0.10  # busy share of the CPUs before the run above which the numbers get noisy
TOKEN_RE = re.compile(r'name="token"\s+value="([^"]+)"')
SYNC_RE = re.compile(r"^(PETITION_WIDGET_\w*SYNCHRONOUS\w*)\s*$", re.MULTILINE)


class HarnessError(RuntimeError):
    """The benchmark could not be run; this, and only this, makes the exit status non-zero."""


# Servers ---------------------------------------------------------------------------------------


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """One uvicorn process pinned to the service CPU, in its own folder, stopped by its pid."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        folder: Path,
        env: dict[str, str],
        cpus: str = SERVICE_CPU,
    ) -> None:
        self.name = name
        self.cpus = cpus
        self.port = free_port()
        self.argv = [arg.replace("{port}", str(self.port)) for arg in argv]
        self.folder = folder
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / f"{name}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # taskset execs the server: this is the Python process

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                ["taskset", "-c", self.cpus, *self.argv],
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"{self.name} exited at start; log:\n{self.tail()}")
            with contextlib.suppress(OSError):
                if http_get(self.base + "/healthz", timeout=1.0)[0] == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise HarnessError(f"{self.name} did not answer within {READY_SECONDS:.0f} s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def pids(self) -> list[int]:
        """The server's process and its workers (`serve --workers N` forks them)."""
        found = [self.pid]
        for pid in found:
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
                found += [int(child) for child in children]
        return found

    def reset_peak(self) -> None:
        """Start the peak resident memory (VmHWM) again from now, in each process."""
        for pid in self.pids():
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak_mb(self) -> float:
        """The peak resident memory since reset_peak, summed over the processes."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        return total / 1024

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @contextlib.contextmanager
    def running(self) -> Iterator[Server]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITION_WIDGET_")}
    env["PETITION_WIDGET_MIN_FILL_SECONDS"] = "0"
    # Every wrk request comes from 127.0.0.1: the per-client signing limit would refuse them.
    # A service without the setting ignores the variable.
    env["PETITION_WIDGET_RATE_LIMITS"] = "off"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def widget_server(
    folder: Path,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    cpus: str = SERVICE_CPU,
    http_server: str = "uvicorn",
) -> Server:
    # `petition-widget serve` is the production command: uvicorn.run picks uvloop and httptools
    # (the uvicorn[standard] extra), one worker unless asked for more, no access log.
    argv = [sys.executable, "-m", "widget", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    argv += ["--database", str(folder / "petition-widget.db"), "--workers", str(workers)]
    argv += ["--server", http_server]
    return Server(f"widget-{http_server}-{workers}w", argv, folder, bench_env(extra_env), cpus)


def baseline_server(folder: Path) -> Server:
    argv = [
        sys.executable, "-m", "uvicorn", "baseline:app", "--app-dir", str(BENCH),
        "--host", "127.0.0.1", "--port", "{port}", "--loop", "uvloop", "--http", "httptools",
        "--workers", "1", "--no-access-log", "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip
    return Server("baseline", argv, folder, bench_env())


# wrk -------------------------------------------------------------------------------------------


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
    """wrk against `url` after a warm-up; with `server`, the server's peak memory during it."""
    if warmup:
        Wrk("warm-up", url, connections, warmup, **kw).result()
    if server is not None:
        server.reset_peak()
    result = Wrk(label, url, connections, duration, **kw).result()
    if server is not None:
        result = replace(result, peak_mb=server.peak_mb())
    print(
        f"  {label}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, errors {result.errors}, peak RSS {result.peak_mb:.0f} MB",
        flush=True,
    )
    return result


def run_id() -> str:
    return f"{random.getrandbits(40):010x}"


# The widget's database -------------------------------------------------------------------------


def fetch_token(server: Server) -> str:
    status, body = http_get(f"{server.base}/c/{SLUG}/embed")
    found = TOKEN_RE.search(body.decode("utf-8", "replace"))
    if status != 200 or not found:
        raise HarnessError(f"no form token on the embed page (status {status})")
    return found.group(1)


def prepare_widget(
    folder: Path,
    signatures: int,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    cpus: str = SERVICE_CPU,
    http_server: str = "uvicorn",
) -> Server:
    server = widget_server(folder, extra_env, workers, cpus, http_server)
    if signatures:
        filled = _FILLED.get(signatures)
        if filled is None:
            with server.running():  # the lifespan creates the schema and the default campaign
                pass
            asyncio.run(fill(folder / "petition-widget.db", signatures))
            filled = _FILLED[signatures] = Path(tempfile.mkdtemp(prefix="bench-filled-"))
            atexit.register(shutil.rmtree, filled, ignore_errors=True)
            copy_install(folder, filled)
        else:  # each service of the run starts from a copy of the one filled database
            copy_install(filled, folder)
    return server


_FILLED: dict[int, Path] = {}


def copy_install(source: Path, target: Path) -> None:
    """The database (with its -wal and -shm, if any) and the keys folder."""
    for path in source.glob("petition-widget.db*"):
        shutil.copy2(path, target / path.name)
    shutil.copytree(source / "petition-widget.keys", target / "petition-widget.keys")


def rows_and_offset(database: Path) -> tuple[int, int]:
    """Signature rows that count (not held for review, not invalidated, where the schema has
    those flags), and the campaign's counter offset."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(signatures)")}
        counted = "".join(f" AND {flag} = 0" for flag in ("held", "invalid") if flag in columns)
        (rows,) = db.execute(
            f"SELECT count(*) FROM signatures WHERE campaign = ?{counted}", (SLUG,)
        ).fetchone()
        (config,) = db.execute("SELECT config FROM campaigns WHERE slug = ?", (SLUG,)).fetchone()
    finally:
        db.close()
    return rows, int(json.loads(config).get("counter_offset", DEFAULT_OFFSET))


def reported_count(server: Server) -> int:
    status, body = http_get(f"{server.base}/api/campaigns/{SLUG}")
    if status != 200:
        raise HarnessError(f"counter JSON answered {status}")
    return int(json.loads(body)["count"])


def check_count(server: Server, database: Path) -> tuple[bool, str]:
    """Rows in signatures against the count the service reports, once the writes settle."""
    rows, offset = rows_and_offset(database)
    for _ in range(50):
        time.sleep(0.1)
        again, offset = rows_and_offset(database)
        if again == rows:
            break
        rows = again
    count = reported_count(server)
    ok = count - offset == rows
    return ok, f"reported {count:,} - offset {offset} = {count - offset:,}; rows {rows:,}"


def sync_setting() -> str | None:
    """The environment variable of a synchronous=FULL/NORMAL setting, if the service has one."""
    out = subprocess.run(
        [sys.executable, "-m", "widget", "settings"],
        capture_output=True, text=True, env=bench_env(), cwd=tempfile.gettempdir(), check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise HarnessError(f"petition-widget settings failed:\n{out.stderr}")
    found = SYNC_RE.search(out.stdout)
    return found.group(1) if found else None


# Profiling -------------------------------------------------------------------------------------


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


# The machine -----------------------------------------------------------------------------------


def describe_machine() -> str:
    """CPUs, Python, and which widget package the service will import."""
    code = "import sys, widget; print(sys.version.split()[0], widget.__file__)"
    probe = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, env=bench_env(), cwd=tempfile.gettempdir(), check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        raise HarnessError(f"the widget package does not import:\n{probe.stderr}")
    version, module = probe.stdout.split()
    source = Path(module).resolve().parent
    return f"{os.cpu_count()} CPUs, Python {version}, widget from {source}"


# The run ---------------------------------------------------------------------------------------


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

    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        print("baseline (bare Starlette):", flush=True)
        with baseline_server(Path(tmp)).running() as base:
            plain = run_wrk(
                "baseline GET /plain", base.base + "/plain", conns, duration, warmup, base
            )
            form = run_wrk(
                "baseline POST /form", base.base + "/form", conns, duration, warmup, base,
                script="sign.lua", args=("dummy-token", run_id()),
            )  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="bench-widget-") as tmp:
        folder = Path(tmp)
        print("petition-widget:", flush=True)
        server = prepare_widget(folder, args.signatures)
        with server.running():
            api = f"{server.base}/api/campaigns/{SLUG}"
            embed_url = f"{server.base}/c/{SLUG}/embed"
            sign_url = f"{server.base}/c/{SLUG}/sign"
            counter = run_wrk("counter JSON", api, conns, duration, warmup, server)
            embed = run_wrk("embed page", embed_url, conns, duration, warmup, server)
            token = fetch_token(server)
            sign = run_wrk(
                "sign POST", sign_url, conns, duration, warmup, server,
                script="sign.lua", args=(token, run_id()),
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
        Row(plain),
        Row(form),
        compare(counter, plain, "baseline plain", 0.90, p99_factor=1.5),
        compare(embed, plain, "baseline plain", 0.70),
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


def worker_rows(
    args: argparse.Namespace, duration: int, warmup: int, conns: int
) -> tuple[list[Row], list[tuple[str, bool, str]]]:
    """One worker against two, each on a fresh database: the server and wrk (two threads) share
    both CPUs here, so neither has a core to itself. Also count = rows for each."""
    checks = []
    print("workers (the server and wrk share both CPUs):", flush=True)
    results: dict[int, tuple[Result, Result]] = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory(prefix=f"bench-workers-{workers}-") as tmp:
            server = prepare_widget(Path(tmp), args.signatures, workers=workers, cpus=BOTH_CPUS)
            with server.running():
                base = f"{server.base}/c/{SLUG}"
                embed = run_wrk(
                    f"embed page, {workers} worker(s), shared CPUs", base + "/embed", conns,
                    duration, warmup, server, cpus=BOTH_CPUS,
                )  # fmt: skip
                sign = run_wrk(
                    f"sign POST, {workers} worker(s), shared CPUs", base + "/sign", conns,
                    duration, warmup, server, script="sign.lua",
                    args=(fetch_token(server), run_id()), cpus=BOTH_CPUS,
                )  # fmt: skip
                ok, detail = check_count(server, Path(tmp) / "petition-widget.db")
                checks.append((f"{workers} worker(s)", ok, detail))
                results[workers] = (embed, sign)
    (embed1, sign1), (embed2, sign2) = results[1], results[2]
    rows = [
        Row(embed1),
        compare(embed2, embed1, "1 worker", 1.60),
        Row(sign1),
        compare(sign2, sign1, "1 worker", 1.60),
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
    """synchronous=FULL against NORMAL for signing, each on a fresh service and database."""
    variable = sync_setting()
    if variable is None:
        return [Row(None, note="sign, synchronous FULL vs NORMAL: n/a (no setting yet)")]
    print(f"synchronous (via {variable}):", flush=True)
    results: dict[str, Result] = {}
    for mode in ("FULL", "NORMAL"):
        with tempfile.TemporaryDirectory(prefix=f"bench-sync-{mode.lower()}-") as tmp:
            server = prepare_widget(Path(tmp), args.signatures, {variable: mode})
            with server.running():
                results[mode] = run_wrk(
                    f"sign POST synchronous={mode}", f"{server.base}/c/{SLUG}/sign", conns,
                    duration, warmup, server, script="sign.lua",
                    args=(fetch_token(server), run_id()),
                )  # fmt: skip
    full, normal = results["FULL"], results["NORMAL"]
    ratio = normal.rps / full.rps if full.rps else 0.0
    return [Row(full), Row(normal, versus="synchronous=FULL", ratio=f"{ratio:.2f}")]


if __name__ == "__main__":
    sys.exit(main())
