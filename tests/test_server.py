"""The real server: uvicorn on a free port, signing over real HTTP."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time

import httpx

from tests.servers import free_port, wait_until_ready


def test_sign_over_real_http(tmp_path):
    port = free_port()
    env = {**os.environ, "PETITION_WIDGET_MIN_FILL_SECONDS": "0"}
    env.pop("PETITION_WIDGET_SECRET_KEY", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "widget", "serve", "--port", str(port), "--database", "w.db"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        umask=0,  # a careless umask must not make anything readable by others
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, server)
        page = httpx.get(base + "/c/belarus/embed?partner=demo")
        assert "785 people have taken action" in page.text
        token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
        form = {
            "token": token,
            "first_name": "Nasta",
            "last_name": "Secretsurname",
            "email": "nasta.secret@example.org",
            "country": "BY",
            "partner": "demo",
            "view": "embed",
        }
        hour = time.time() // 3600
        signed = httpx.post(base + "/c/belarus/sign", data=form, headers={"Origin": base})
        assert signed.status_code == 303
        # Stored, and counted at the next hour: the shipped campaign publishes its count
        # hourly, which the thank-you says.
        thanks = httpx.get(base + signed.headers["location"]).text
        assert "Your signature will be in the count after its next update." in thanks
        counted = httpx.get(base + "/api/campaigns/belarus").json()["count"]
        assert counted == (785 if time.time() // 3600 == hour else 786)  # an hour may begin
        with sqlite3.connect(f"file:{tmp_path / 'w.db'}?mode=ro", uri=True) as db:
            assert db.execute("SELECT count(*) FROM signatures").fetchone() == (1,)
        # Every file the install made is owner-only, and the keys are in a folder of their
        # own (0700), not loose beside the database.
        made = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777
                for p in tmp_path.rglob("*")}  # fmt: skip
        assert made == {
            "w.db": 0o600, "w.db-wal": 0o600, "w.db-shm": 0o600, "w.db-writer": 0o600,
            "w.keys": 0o700,
            "w.keys/secret-key": 0o600, "w.keys/operator-public.key": 0o600,
            "w.keys/operator-private.key": 0o600,
        }  # fmt: skip
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status tells why.
    assert server.returncode in (0, -15)
    assert "Application shutdown complete" in output
    # Nothing the signer typed, and no client address, reaches the log.
    for secret in ["Nasta", "Secretsurname", "nasta.secret", "127.0.0.1:"]:
        assert secret not in output.replace(f"http://127.0.0.1:{port}", ""), secret
