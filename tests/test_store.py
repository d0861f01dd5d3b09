"""The SQLite store: migrations, group commits, exact duplicates under concurrency, and what
a reader is told when a commit fails."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace

import pytest

from tests.conftest import count, sealed_signature, sign, signer
from widget.campaigns import load_file
from widget.resources import resource
from widget.store import StoreError, open_store
from widget.store.sqlite import MIGRATIONS

BELARUS = load_file(resource("campaigns") / "belarus.toml")


@pytest.fixture
async def store(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    await store.open()
    await store.save_campaign(BELARUS)
    yield store
    await store.close()


def signature(n: int, email: str | None = None, campaign=BELARUS):
    return sealed_signature(signer(n, **({"email": email} if email else {})), campaign)


async def test_migrations_run_once_and_reopen_keeps_data(tmp_path):
    path = str(tmp_path / "m.db")
    for _ in range(2):
        store = open_store(path)
        await store.open()
        await store.save_campaign(BELARUS)
        await store.add_signature(signature(1))
        await store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(MIGRATIONS),)
    assert db.execute("SELECT count(*) FROM signatures").fetchone() == (1,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_concurrent_duplicates_count_once(store):
    added = []
    store.listeners.append(lambda slug, n: added.append(n))
    await asyncio.gather(
        *(store.add_signature(signature(i, "same@example.org")) for i in range(50))
    )
    assert (await store.counts())["belarus"] == 1
    assert sum(added) == 1


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


async def test_closed_store_refuses(tmp_path):
    store = open_store(str(tmp_path / "c.db"))
    with pytest.raises(StoreError):
        await store.add_signature(signature(1))


async def test_counts_survive_a_reopen(store, tmp_path):
    for i in range(5):
        await store.add_signature(signature(i))
    campaigns = await store.campaigns()
    assert [(c.slug, n) for c, n in campaigns] == [("belarus", 5)]


async def test_a_database_error_tells_the_reader_to_try_again(client):
    writer = client.app.state.service.store._writer
    await writer.execute("PRAGMA query_only = ON")
    response = await sign(client, signer(1))
    assert response.status_code == 503
    assert "try again" in response.json()["errors"]["form"]
    html = await sign(client, signer(1), json=False)
    assert html.status_code == 503
    assert 'value="Alesia1"' in html.text
    await writer.execute("PRAGMA query_only = OFF")
    assert await count(client) == 785
    assert (await sign(client, signer(1))).json()["count"] == 786


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
