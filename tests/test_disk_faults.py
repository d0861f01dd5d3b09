"""SQLite on a real disk that fills up, under the real server: readers keep reading, signing
answers 503 "try again" (never 500), /readyz says 503, and once the disk has room again
signing works without a restart; the count equals the rows. On a disk mounted read-only,
`serve` refuses to start with a clear message and changes nothing. Each test mounts a small
tmpfs of its own (which needs root: CI runs as root; elsewhere the tests skip with the
reason)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_PUBLIC_KEY, TEST_SECRET
from tests.servers import free_port
from tests.test_database_faults import OFFSET, Signer, reader_statuses, until
from tests.test_faults import start


@contextlib.contextmanager
def small_disk(megabytes: int) -> Iterator[Path]:
    """A tmpfs of its own, unmounted afterwards."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the disk fault tests mount a tmpfs: CI must run them as root")
        pytest.skip("mounting a tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="pw-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
                   check=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def rows(folder: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{folder / 'f.db'}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM signatures").fetchone()[0])


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[tuple[httpx.Client, Signer]]:
    server, base = start(folder, free_port())
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            yield client, Signer(client)
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
        assert "Traceback" not in output, output
        assert "Zzfault" not in output  # nothing a reader typed reaches the log


def refused_and_back(client: httpx.Client, signer: Signer, heal) -> None:
    """While the disk refuses writes: 503 to signing, 200 to readers, 503 from /readyz. Then
    `heal()`, and signing works again by itself."""
    for _ in range(3):
        refused = signer.sign()
        assert refused.status_code == 503, refused.text
        assert "try again" in refused.text.lower()
        assert reader_statuses(client) == [200, 200, 200, 200]
    assert client.get("/readyz").status_code == 503
    heal()
    until(lambda: signer.sign().status_code == 200)  # no restart
    until(lambda: client.get("/readyz").status_code == 200)


def test_a_full_disk_refuses_signatures_and_recovers(tmp_path):
    with small_disk(24) as disk, serving(disk) as (client, signer):
        assert [signer.sign().status_code for _ in range(5)] == [200] * 5
        filler = disk / "filler"
        # Fill every byte that is left (dd stops at "No space left on device").
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        refused_and_back(client, signer, filler.unlink)
        count = client.get("/api/campaigns/belarus").json()["count"]
        stored = rows(disk)
    assert 500 not in signer.statuses
    assert stored >= len(signer.acknowledged) and count == OFFSET + stored


def test_a_read_only_disk_is_refused_at_start_with_a_clear_message(tmp_path):
    """A disk mounted read-only: `serve` says what is wrong and changes nothing; once the disk
    is writable again the service starts with every signature."""
    with small_disk(24) as disk:
        with serving(disk) as (client, signer):
            assert [signer.sign().status_code for _ in range(5)] == [200] * 5
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        refused = subprocess.run(
            [sys.executable, "-m", "widget", "serve", "--port", str(free_port()),
             "--database", "f.db"],
            cwd=disk, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PETITION_WIDGET_SECRET_KEY": TEST_SECRET,
                 "PETITION_WIDGET_PUBLIC_KEY": TEST_PUBLIC_KEY},
        )  # fmt: skip
        assert refused.returncode != 0
        assert f"the database's folder {disk} cannot be written" in refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        with serving(disk) as (client, _):
            assert client.get("/api/campaigns/belarus").json()["count"] == OFFSET + 5
        assert rows(disk) == 5
