"""The servers a bench run starts: the service (`petition-widget serve`, one or more workers,
uvicorn or Granian) and the bare Starlette baseline, each in a fresh folder and pinned to its
CPUs; a database filled once per run; the token a sign load needs."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from common import HarnessError, free_port, made_live
from fill import fill

BENCH = Path(__file__).resolve().parent
SERVICE_CPU = "0"
WRK_CPU = "1"
BOTH_CPUS = "0,1"
SLUG = "belarus"
READY_SECONDS = 60.0
TOKEN_RE = re.compile(r'name="token"\s+value="([^"]+)"')
SYNC_RE = re.compile(r"^(PETITION_WIDGET_\w*SYNCHRONOUS\w*)\s*$", re.MULTILINE)


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
    if not signatures:
        asyncio.run(made_live(str(folder / "petition-widget.db")))
    else:
        filled = _FILLED.get(signatures)
        if filled is None:
            asyncio.run(made_live(str(folder / "petition-widget.db")))
            with server.running():  # the first start makes the keys
                pass
            asyncio.run(fill(folder / "petition-widget.db", signatures))
            filled = _FILLED[signatures] = Path(tempfile.mkdtemp(prefix="bench-filled-"))
            atexit.register(shutil.rmtree, filled, ignore_errors=True)
            copy_install(folder, filled)
        else:  # each service of the run starts from a copy of the one filled database
            copy_install(filled, folder)
        # The fill and the copies leave hundreds of megabytes of dirty pages at 1,000,000
        # rows; written back while the first path runs, they took CPU from it (the counter
        # measured 0.74 of plain text there). Every server starts on a clean page cache.
        os.sync()
    return server


_FILLED: dict[int, Path] = {}


def copy_install(source: Path, target: Path) -> None:
    """The database (with its -wal and -shm, if any) and the keys folder."""
    for path in source.glob("petition-widget.db*"):
        shutil.copy2(path, target / path.name)
    shutil.copytree(source / "petition-widget.keys", target / "petition-widget.keys")


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
