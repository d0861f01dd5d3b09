"""Nothing acknowledged is lost: kill -9 in the middle of a load, and SIGTERM, against the real
server. (A failing database is in test_store.py.)"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import TEST_PUBLIC_KEY, TEST_SECRET
from tests.databases import live_from_start
from tests.servers import free_port, wait_until_ready
from widget.signing import email_key


def start(tmp_path, port):
    """The server on tmp_path/f.db, made on first start with the campaign counted live: these
    tests check the public count against the rows."""
    if not (tmp_path / "f.db").exists():
        live_from_start(tmp_path / "f.db")
    env = {
        **os.environ,
        "PETITION_WIDGET_MIN_FILL_SECONDS": "0",
        "PETITION_WIDGET_RATE_LIMITS": "off",
        "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
        "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "widget", "serve", "--port", str(port), "--database", "f.db"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, server)
    return server, base


def load(base: str, stop: threading.Event, acknowledged: list[str], workers: int = 8) -> None:
    """Sign with unique addresses until stopped; note every address the server acknowledged."""
    token = re.search(r'name="token" value="([^"]+)"', httpx.get(base + "/c/belarus/embed").text)
    form = {"token": token.group(1), "first_name": "Ann", "last_name": "Lee", "country": "CA"}

    def worker(n: int) -> None:
        with httpx.Client(timeout=5) as client:
            i = 0
            while not stop.is_set():
                email = f"w{n}-{i}@example.org"
                i += 1
                try:
                    answer = client.post(base + "/c/belarus/sign", data={**form, "email": email})
                except httpx.TransportError:
                    continue  # no answer is no promise
                if answer.status_code == 303:
                    acknowledged.append(email)

    with ThreadPoolExecutor(workers) as pool:
        for n in range(workers):
            pool.submit(worker, n)


def stored_keys(tmp_path) -> set[bytes]:
    db = sqlite3.connect(tmp_path / "f.db")
    try:
        return {row[0] for row in db.execute("SELECT email_key FROM signatures")}
    finally:
        db.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_every_acknowledged_signature_survives(tmp_path, sig):
    server, base = start(tmp_path, free_port())
    stop = threading.Event()
    acknowledged: list[str] = []
    loader = threading.Thread(target=load, args=(base, stop, acknowledged))
    loader.start()
    try:
        deadline = time.monotonic() + 20
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.send_signal(sig)  # in the middle of the load
        output, _ = server.communicate(timeout=30)
    finally:
        stop.set()
        loader.join()
        if server.poll() is None:
            server.kill()
    assert len(acknowledged) >= 150, "the load did not get going"
    keys = stored_keys(tmp_path)
    missing = [e for e in acknowledged if email_key(TEST_SECRET, e) not in keys]
    assert missing == []
    if sig == signal.SIGTERM:
        # A clean stop: in-flight signatures finished, the store closed.
        assert "Application shutdown complete" in output
        assert "Traceback" not in output
    # After a restart the count is every stored row, and the service carries on.
    server, base = start(tmp_path, free_port())
    try:
        count = httpx.get(base + "/api/campaigns/belarus").json()["count"]
        assert count == 785 + len(keys)
    finally:
        server.terminate()
        server.communicate(timeout=10)


def test_repeated_kill_nine_leaves_a_whole_database(tmp_path):
    """Three times: a load, kill -9 in the middle, a restart. The file passes SQLite's integrity
    check each time, every acknowledged signature is there, and the count is the rows."""
    acknowledged: list[str] = []
    for _ in range(3):
        server, base = start(tmp_path, free_port())
        stop = threading.Event()
        loader = threading.Thread(target=load, args=(base, stop, acknowledged, 4))
        loader.start()
        try:
            goal = len(acknowledged) + 40
            deadline = time.monotonic() + 20
            while len(acknowledged) < goal and time.monotonic() < deadline:
                time.sleep(0.02)
            server.send_signal(signal.SIGKILL)
            server.communicate(timeout=30)
        finally:
            stop.set()
            loader.join()
        db = sqlite3.connect(tmp_path / "f.db")
        try:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            rows = db.execute("SELECT count(*) FROM signatures").fetchone()[0]
        finally:
            db.close()
        keys = stored_keys(tmp_path)
        assert [e for e in acknowledged if email_key(TEST_SECRET, e) not in keys] == []
    server, base = start(tmp_path, free_port())
    try:
        # Every row counts (the rounds repeat addresses: each repeat is a row of its own).
        assert httpx.get(base + "/api/campaigns/belarus").json()["count"] == 785 + rows
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert len(acknowledged) >= 120
