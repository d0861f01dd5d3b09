"""`petition-widget backup`: a SQLite database copied whole and consistent while the service
signs, owner-only, with no key in it, never over a file or into the keys folder; the copy
starts as the same petition. PostgreSQL is pointed to pg_dump."""

from __future__ import annotations

import asyncio
import sqlite3
import stat

import httpx
import pytest

from tests.conftest import TEST_PRIVATE_KEY, TEST_SECRET, count, make_settings, sign, signer
from widget.app import create_app
from widget.cli import main
from widget.store import sqlite as sqlite_backend
from widget.store.types import StoreError
from widget.views.admin import DANGEROUS_ACTIONS

SQLITE = pytest.mark.sqlite_only(reason="a SQLite file is copied; PostgreSQL has pg_dump")


def rows(path, sql: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@SQLITE
async def test_a_backup_is_whole_consistent_keyless_and_starts_as_the_same_petition(
    database, client_factory, tmp_path, capsys
):
    target = tmp_path / "backups" / "petition-widget-2026-12-07.db"
    target.parent.mkdir()
    async with client_factory() as client:
        for n in range(1, 4):
            await sign(client, signer(n))
        # The copy is taken while the service goes on signing.
        await asyncio.gather(
            asyncio.to_thread(main, ["backup", str(target), "--database", database.url]),
            *(sign(client, signer(n)) for n in range(4, 10)),
        )
        # Like an export, every operator's front page shows it.
        audit = await client.app.state.service.store.audit_log(10, DANGEROUS_ACTIONS)
    assert f"wrote {target}: " in capsys.readouterr().out

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert rows(target, "PRAGMA journal_mode") == [("delete",)]
    assert rows(target, "PRAGMA integrity_check") == [("ok",)]
    assert not target.with_name(target.name + "-wal").exists()
    (copied,) = rows(target, "SELECT count(*) FROM signatures")[0]
    assert 3 <= copied <= 9
    # One snapshot: its counts agree with its rows, whatever was signed meanwhile.
    assert rows(target, "SELECT sum(n) FROM campaign_counts") == [(copied,)]
    data = target.read_bytes()
    for secret in (TEST_SECRET, TEST_PRIVATE_KEY, "alesia1@example.org", "Kavalchuk1"):
        assert secret.encode() not in data
    entry = next(e for e in audit if e.action == "backup")
    assert entry.detail == f"{copied} signature(s) copied to {target}"

    # Restored (the copy as the database, the same keys), it is the same petition.
    app = create_app(make_settings(str(target)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert await count(c) == 785 + copied


@SQLITE
def test_a_backup_never_replaces_a_file_nor_joins_the_keys(database, tmp_path, capsys):
    existing = tmp_path / "yesterday.db"
    existing.write_bytes(b"yesterday's backup")
    keys = tmp_path / "petition-widget.keys"
    cases = [
        (existing, "exists already: a backup never replaces a file"),
        (keys / "copy.db", "is inside the keys folder"),
        (tmp_path / "no-such-folder" / "copy.db", "cannot write"),
    ]
    for target, message in cases:
        with pytest.raises(SystemExit) as refused:
            main(["backup", str(target), "--database", database.url])
        assert message in str(refused.value.code)
    assert existing.read_bytes() == b"yesterday's backup"
    assert [p.name for p in tmp_path.iterdir()] == ["yesterday.db"]  # nothing made
    assert capsys.readouterr().out == ""


@SQLITE
def test_a_copy_that_fails_its_check_is_not_left_behind(database, tmp_path, monkeypatch):
    def broken(path: str) -> int:
        raise StoreError("the copy failed its integrity check: page 3 is never used")

    monkeypatch.setattr(sqlite_backend, "_checked_copy", broken)
    target = tmp_path / "copy.db"
    with pytest.raises(SystemExit) as refused:
        main(["backup", str(target), "--database", database.url])
    assert "failed its integrity check" in str(refused.value.code)
    assert not target.exists()


@pytest.mark.postgres_only(reason="the message for a PostgreSQL database")
def test_postgresql_is_backed_up_with_pg_dump(database, tmp_path):
    with pytest.raises(SystemExit) as refused:
        main(["backup", str(tmp_path / "copy.db"), "--database", database.url])
    assert "pg_dump --format=custom" in str(refused.value.code)
    assert not (tmp_path / "copy.db").exists()
