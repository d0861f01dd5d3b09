"""`serve --workers N`: N processes on one SQLite database, each with its own writer. Every
acknowledged signature is stored, the counts agree with the rows, and a worker killed with
kill -9 loses nothing acknowledged while the others (and its replacement) go on."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_PUBLIC_KEY, TEST_SECRET, sealed_signature, signer
from tests.databases import live_from_start
from tests.servers import free_port, wait_until_ready
from tests.test_database_faults import OFFSET, Signer, until
from tests.test_store import BELARUS
from widget.store import StoreError, open_store


def workers_of(parent: int) -> list[int]:
    """uvicorn's workers under `parent`, not multiprocessing's resource tracker. A worker gone
    between pgrep and the look at its command line (one just killed) is not counted, and a
    killed one not yet reaped has an empty command line."""
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    workers = []
    for pid in (int(p) for p in found.stdout.split()):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
    return workers


def rows(path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM signatures").fetchone()[0])


def test_two_workers_share_one_database_and_survive_a_kill_nine(tmp_path):
    env = {
        **os.environ, "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
        "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY, "PETITION_WIDGET_MIN_FILL_SECONDS": "0",
        "PETITION_WIDGET_RATE_LIMITS": "off", "PETITION_WIDGET_COUNTER_CACHE_SECONDS": "0.2",
    }  # fmt: skip
    port = free_port()
    log = tmp_path / "serve.log"
    live_from_start(tmp_path / "f.db")  # the workers' counts are checked against the rows
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "widget", "serve", "--port", str(port), "--workers", "2",
             "--database", "f.db"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        until(lambda: len(workers_of(server.pid)) == 2, 30)
        # A new connection per request, so that both workers take some.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=base, timeout=30, limits=fresh) as client:
            wait_until_ready(base, server)
            signer = Signer(client)
            assert [signer.sign().status_code for _ in range(30)] == [200] * 30

            os.kill(workers_of(server.pid)[0], signal.SIGKILL)
            for _ in range(20):
                with contextlib.suppress(httpx.TransportError):  # one the killed worker held
                    signer.sign()
            until(lambda: len(workers_of(server.pid)) == 2, 30)  # replaced
            time.sleep(0.5)  # every worker's counter cache has expired
            stored = rows(tmp_path / "f.db")
            counts = {client.get("/api/campaigns/belarus").json()["count"] for _ in range(10)}
        assert stored >= len(signer.acknowledged) >= 30
        assert counts == {OFFSET + stored}  # every worker says the same
        assert 500 not in signer.statuses
    finally:
        server.terminate()
        server.wait(30)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert text.count("Application startup complete") >= 3  # two, and the replacement


async def test_a_writer_kept_waiting_by_another_process_is_told_to_try_again(tmp_path):
    """Workers take turns at writing through a lock on NAME.db-writer. One that waits longer
    than the database timeout gives up with StoreError (the reader gets "try again"), and a
    turn that comes after it gave up is given back, so writing goes on."""
    path = tmp_path / "t.db"
    store = open_store(str(path), timeout=0.2)
    await store.open()
    try:
        await store.save_campaign(BELARUS)
        lock = tmp_path / "t.db-writer"
        assert lock.stat().st_mode & 0o777 == 0o600
        other = os.open(lock, os.O_RDWR)  # another open file: as another process's turn
        try:
            fcntl.flock(other, fcntl.LOCK_EX)
            with pytest.raises(StoreError):
                await store.add_signature(sealed_signature(signer(1), BELARUS))
            fcntl.flock(other, fcntl.LOCK_UN)
            await store.add_signature(sealed_signature(signer(2), BELARUS))
            await store.add_signature(sealed_signature(signer(3), BELARUS))
            # The turn is free again between writes: another process can take it at once.
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with pytest.raises(StoreError):  # and while it holds it, the store can still close
                await store.add_signature(sealed_signature(signer(4), BELARUS))
            assert (await store.counts())["belarus"] == 2
            await store.close()
        finally:
            os.close(other)
    finally:
        await store.close()
    assert rows(path) == 2


async def test_a_signing_batch_takes_and_gives_back_the_turn_without_the_event_loop(tmp_path):
    """Another process's turn ends while this process's event loop is busy (answering other
    readers): the batch that waited is written, and the turn given back, before the loop
    gets to it, so the other process can take its next turn at once."""
    path = tmp_path / "t.db"
    store = open_store(str(path), timeout=5)
    await store.open()
    try:
        await store.save_campaign(BELARUS)
        other = os.open(tmp_path / "t.db-writer", os.O_RDWR)  # as another process's turn
        try:
            fcntl.flock(other, fcntl.LOCK_EX)
            signing = asyncio.ensure_future(
                store.add_signature(sealed_signature(signer(1), BELARUS))
            )
            await asyncio.sleep(0.1)  # the batch is waiting for the turn
            assert rows(path) == 0
            threading.Timer(0.1, fcntl.flock, (other, fcntl.LOCK_UN)).start()
            time.sleep(1.0)  # the loop is busy: nothing on it runs until this returns
            assert rows(path) == 1
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the turn was given back
            fcntl.flock(other, fcntl.LOCK_UN)
            await signing
        finally:
            os.close(other)
    finally:
        await store.close()


# A worker: claims a CPU, says which (or None) and where it now runs, lives until its stdin closes.
PIN_CLAIM = """
import os, sys
from widget.cpus import pin_to_a_free_cpu
claim = pin_to_a_free_cpu()
print(claim and claim[0], sorted(os.sched_getaffinity(0)), flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux's")
def test_each_worker_claims_a_cpu_no_sibling_holds_and_a_dead_ones_is_free_again():
    allowed = sorted(os.sched_getaffinity(0))[:2]
    if len(allowed) < 2:
        pytest.fail("this test needs two CPUs (the CI machine has two)")
    a, b = allowed
    workers: list[subprocess.Popen[str]] = []

    def start() -> str:
        worker = subprocess.Popen(
            ["taskset", "-c", f"{a},{b}", sys.executable, "-c", PIN_CLAIM],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        workers.append(worker)
        assert worker.stdout is not None
        return worker.stdout.readline().strip()

    try:
        assert start() == f"{a} [{a}]"
        assert start() == f"{b} [{b}]"
        # Both held: the third stays on both CPUs rather than share one.
        assert start() == f"None [{a}, {b}]"
        first = workers[0]
        first.communicate(timeout=10)  # the first worker ends: its CPU is free again
        assert start() == f"{a} [{a}]"
    finally:
        for worker in workers:
            worker.kill()
            worker.communicate(timeout=10)  # and its pipes closed


def test_pinned_workers_run_on_a_cpu_each_and_a_replacement_takes_the_freed_one(tmp_path):
    allowed = sorted(os.sched_getaffinity(0))
    env = {
        **os.environ, "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
        "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY, "PETITION_WIDGET_PIN_WORKERS": "1",
    }  # fmt: skip
    port = free_port()
    with (tmp_path / "serve.log").open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "widget", "serve", "--port", str(port), "--workers", "2",
             "--database", "f.db"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def cpus_of_workers() -> list[set[int]]:
        found = []
        for pid in workers_of(server.pid):
            with contextlib.suppress(ProcessLookupError):  # gone since it was listed
                found.append(os.sched_getaffinity(pid))
        return found

    try:
        until(lambda: len(workers_of(server.pid)) == 2, 30)
        wait_until_ready(base, server)
        until(lambda: all(len(cpus) == 1 for cpus in cpus_of_workers()), 30)
        first = cpus_of_workers()
        assert sorted(min(cpus) for cpus in first) == allowed[:2]  # one CPU each, not the same
        os.kill(workers_of(server.pid)[0], signal.SIGKILL)
        until(lambda: len(workers_of(server.pid)) == 2, 30)
        until(lambda: all(len(cpus) == 1 for cpus in cpus_of_workers()), 30)
        assert sorted(min(cpus) for cpus in cpus_of_workers()) == allowed[:2]
        assert httpx.get(f"{base}/api/campaigns/belarus", timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(30)
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text
    # Each worker logs as the command does (workers start with no logging set up).
    assert text.count("INFO widget.cpus: process ") >= 3, text  # two, and the replacement


def test_one_pinned_worker_runs_on_one_cpu(tmp_path):
    env = {
        **os.environ, "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
        "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY, "PETITION_WIDGET_PIN_WORKERS": "1",
    }  # fmt: skip
    port = free_port()
    with (tmp_path / "serve.log").open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "widget", "serve", "--port", str(port), "--database", "f.db"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", server)
        # Its threads too: the event loop's and SQLite's, started after the pinning.
        cpus = []
        for thread in Path(f"/proc/{server.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                cpus.append(frozenset(os.sched_getaffinity(int(thread.name))))
        assert len(cpus) > 1
        assert set(cpus) == {frozenset({min(os.sched_getaffinity(0))})}
    finally:
        server.terminate()
        server.wait(30)
    assert "pinned to CPU" in (tmp_path / "serve.log").read_text()
