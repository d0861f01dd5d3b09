"""The store, on each backend: migrations, group commits, exact duplicates under concurrency,
several instances on one database, and what a reader is told when a commit fails."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from tests.conftest import TEST_SECRET, count, sealed_signature, sign, signer
from widget.campaigns import load_file
from widget.resources import resource
from widget.store import StoreError, open_store, postgres, sqlite

BELARUS = load_file(resource("campaigns") / "belarus.toml")
MIGRATIONS = {"sqlite": sqlite.MIGRATIONS, "postgres": postgres.MIGRATIONS}


@pytest.fixture
async def store(database):
    store = open_store(database.url)
    await store.open()
    await store.save_campaign(BELARUS)
    yield store
    await store.close()


def signature(n: int, email: str | None = None, campaign=BELARUS):
    return sealed_signature(signer(n, **({"email": email} if email else {})), campaign)


async def test_migrations_run_once_and_reopen_keeps_data(database):
    for _ in range(2):
        store = open_store(database.url)
        await store.open()
        await store.save_campaign(BELARUS)
        await store.add_signature(signature(1))
        await store.close()
    migrations = MIGRATIONS[database.kind]
    assert database.rows("SELECT count(*) FROM schema_migrations") == [(len(migrations),)]
    # The same address twice: every accepted signature is its own row.
    assert database.rows("SELECT count(*) FROM signatures") == [(2,)]


@pytest.mark.sqlite_only(reason="WAL is SQLite's journal mode; PostgreSQL always logs ahead")
async def test_sqlite_runs_in_wal_mode(store, database):
    assert database.rows("PRAGMA journal_mode") == [("wal",)]


@pytest.mark.sqlite_only(reason="the WAL file is SQLite's")
async def test_the_wal_is_cut_back_after_each_checkpoint(store, database, tmp_path):
    for backend_db in (store.backend.reader, store.backend.writer):
        async with backend_db.execute("PRAGMA journal_size_limit") as cursor:
            assert (await cursor.fetchone())[0] == sqlite.WAL_SIZE_LIMIT
    # Many writes, a checkpoint, and the next write: the WAL file is cut back to the limit.
    sealed = sealed_signature(signer(1), load_file(resource("campaigns") / "belarus.toml"))
    for n in range(3000):
        await store.add_signature(replace(sealed, email_key=n.to_bytes(32, "big")))
    wal = database.path.with_name(database.path.name + "-wal")
    assert wal.stat().st_size > sqlite.WAL_SIZE_LIMIT
    async with store.backend.writer.execute("PRAGMA wal_checkpoint(PASSIVE)"):
        pass  # closed: a statement left in progress would hold up the next COMMIT
    await store.add_signature(replace(sealed, email_key=b"next".ljust(32, b"-")))
    assert wal.stat().st_size <= sqlite.WAL_SIZE_LIMIT


async def test_instances_starting_together_migrate_once_and_count_exactly(database):
    """Several instances open one empty database at the same moment, then sign at once,
    the same addresses included: each migration runs once and every count is exact (every
    signature received counts, repeats included; the distinct addresses are the signers)."""
    stores = [open_store(database.url) for _ in range(3)]
    opened = await asyncio.gather(*(store.open() for store in stores), return_exceptions=True)
    try:
        for outcome in opened:
            if isinstance(outcome, BaseException):
                raise outcome
        await stores[0].save_campaign(BELARUS)
        await asyncio.gather(
            *(store.add_signature(signature(i)) for store in stores for i in range(60)),
            *(stores[i % 3].add_signature(signature(100 + i)) for i in range(90)),
        )
        for store in stores:
            assert (await store.counts())["belarus"] == 270
            assert (await store.unique_signers())["belarus"] == 150
    finally:
        for store in stores:
            await store.close()
    migrations = MIGRATIONS[database.kind]
    assert database.rows("SELECT count(*) FROM schema_migrations") == [(len(migrations),)]
    assert database.rows("SELECT count(DISTINCT email_key) FROM signatures") == [(150,)]


async def test_concurrent_repeats_each_count_and_stay_one_signer(store):
    """No membership oracle in the count: a repeated address counts like a new one. The
    operator still sees one signer."""
    added = []
    store.listeners.append(lambda slug, n: added.append(n))
    await asyncio.gather(
        *(store.add_signature(signature(i, "same@example.org")) for i in range(50))
    )
    assert (await store.counts())["belarus"] == 50
    assert sum(added) == 50
    assert (await store.unique_signers())["belarus"] == 1
    assert (await store.stats("belarus", since="")).signers == 1


async def test_an_older_database_keeps_every_row_and_then_counts_repeats(database, monkeypatch):
    """A database made before repeats were stored as rows (and before the one gateway)
    migrates without losing a row or a count."""
    backend = sqlite if database.kind == "sqlite" else postgres
    new = MIGRATIONS[database.kind]
    older = {"sqlite": 4, "postgres": 1}[database.kind]  # the schema an older version left
    monkeypatch.setattr(backend, "MIGRATIONS", new[:older])
    store = open_store(database.url)
    await store.backend.open()  # the schema only: this version's queries need the new one
    await store.backend.close()
    config = json.dumps(BELARUS.to_dict(), ensure_ascii=False, sort_keys=True)
    stamp = "2026-11-30T10:00:00Z"
    database.insert("campaigns", ("slug", "config", "revision", "created_at", "updated_at"),
                    [("belarus", config, 1, stamp, stamp)])  # fmt: skip
    signed = [signature(i) for i in range(5)]
    database.insert(
        "signatures",
        ("campaign", "email_key", "sealed", "first_name", "last_name", "email", "country",
         "opt_in", "signed_at"),
        [(s.campaign, s.email_key, s.sealed, "", "", "", s.country, s.opt_in, stamp)
         for s in signed],
    )  # fmt: skip
    if database.kind == "sqlite":
        database.execute("UPDATE campaigns SET signature_count = 5")
    else:
        database.add_to_count("belarus", 5)
    before = database.rows("SELECT id, email_key, sealed FROM signatures ORDER BY id")

    monkeypatch.setattr(backend, "MIGRATIONS", new)
    store = open_store(database.url)
    await store.open()
    try:
        assert database.rows("SELECT id, email_key, sealed FROM signatures ORDER BY id") == before
        assert (await store.counts())["belarus"] == 5
        await store.add_signature(signature(9, "alesia0@example.org"))
        assert (await store.counts())["belarus"] == 6
        assert (await store.unique_signers())["belarus"] == 5
    finally:
        await store.close()


async def test_deleting_a_signer_removes_every_row_and_uncounts_each(store, database):
    from widget.signing import email_key

    for i in range(3):
        await store.add_signature(signature(i, "twice@example.org"))
    await store.add_signature(signature(7))
    assert (await store.counts())["belarus"] == 4
    minsk = replace(BELARUS, slug="minsk")
    await store.save_campaign(minsk)
    await store.add_signature(signature(1, "twice@example.org", campaign=minsk))
    await store.add_signature(signature(8, campaign=minsk))
    key = email_key(TEST_SECRET, "twice@example.org")
    assert await store.delete_signer(key, "minsk") == {"minsk": 1}
    assert (await store.counts()) == {"belarus": 4, "minsk": 1}
    await store.add_signature(signature(1, "twice@example.org", campaign=minsk))
    # In every campaign: the address's rows in each, and no other signer's.
    assert await store.delete_signer(key) == {"belarus": 3, "minsk": 1}
    assert (await store.counts()) == {"belarus": 1, "minsk": 1}
    assert database.rows("SELECT campaign, count(*) FROM signatures GROUP BY campaign "
                         "ORDER BY campaign") == [("belarus", 1), ("minsk", 1)]  # fmt: skip


async def test_many_concurrent_signatures_share_commits(store):
    commits = []
    store.listeners.append(lambda slug, n: commits.append(n))
    await asyncio.gather(*(store.add_signature(signature(i)) for i in range(300)))
    assert (await store.counts())["belarus"] == 300
    assert sum(commits) == 300
    assert len(commits) < 300  # grouped into fewer transactions than signatures


async def test_a_failed_group_commit_fails_every_request_in_it_and_counts_none(store):
    stranger = replace(signature(2), campaign="no-such-campaign")  # violates the foreign key
    results = await asyncio.gather(
        store.add_signature(signature(1)), store.add_signature(stranger), return_exceptions=True
    )
    assert all(isinstance(r, StoreError) for r in results)
    assert (await store.counts())["belarus"] == 0
    await store.add_signature(signature(3))  # the writer carries on
    assert (await store.counts())["belarus"] == 1


async def test_closed_store_refuses(database):
    store = open_store(database.url)
    with pytest.raises(StoreError):
        await store.add_signature(signature(1))


async def test_counts_survive_a_reopen(store, tmp_path):
    for i in range(5):
        await store.add_signature(signature(i))
    campaigns = await store.campaigns()
    assert [(c.slug, n) for c, n in campaigns] == [("belarus", 5)]


async def test_a_database_error_tells_the_reader_to_try_again(client, database):
    with database.writes_refused():
        response = await sign(client, signer(1))
        assert response.status_code == 503
        assert "try again" in response.json()["errors"]["form"]
        html = await sign(client, signer(1), json=False)
        assert html.status_code == 503
        assert 'value="Alesia1"' in html.text
    assert await count(client) == 785
    assert (await sign(client, signer(1))).json()["count"] == 786


@pytest.mark.sqlite_only(reason="fills the disk with SQLite's max_page_count; PostgreSQL has none")
async def test_a_full_disk_tells_the_reader_to_try_again_and_stores_nothing(client_factory):
    async with client_factory(rate_limits="off") as client:
        await _fill_the_disk(client)


async def _fill_the_disk(client):
    writer = client.app.state.service.store._writer
    async with writer.execute("PRAGMA page_count") as cursor:
        (pages,) = await cursor.fetchone()
    await writer.execute(f"PRAGMA max_page_count = {pages}")  # SQLite answers SQLITE_FULL
    responses = [await sign(client, signer(i)) for i in range(40)]
    assert {r.status_code for r in responses} <= {200, 503}
    failed = [r for r in responses if r.status_code == 503]
    assert failed, "the database never filled up"
    assert all("try again" in r.json()["errors"]["form"] for r in failed)
    stored = sum(r.status_code == 200 for r in responses)
    assert await count(client) == 785 + stored


async def test_every_save_changes_the_revision_even_within_one_second(store):
    from widget.partners import make_partner

    seen = [await store.campaigns_revision()]
    for _ in range(3):  # the same second, the same content: a change all the same
        await store.save_campaign(BELARUS)
        seen.append(await store.campaigns_revision())
    await store.save_partner(
        make_partner("diaspora", "Diaspora Org", origins=["https://d.example"])
    )
    seen.append(await store.campaigns_revision())
    assert len(set(seen)) == len(seen)


async def test_driver_errors_leave_the_gateway_as_store_errors(store, database):
    with database.writes_refused(), pytest.raises(StoreError) as caught:
        await store.add_signature(signature(1))
    assert "refuse" not in str(caught.value)  # the driver's message may quote a row
    with pytest.raises(StoreError):
        await store._fetch("SELECT no_such_column FROM signatures")
