"""The database a test runs on, SQLite or PostgreSQL, and what tests need to look inside it
without reaching into the store: rows, bytes at rest, rows written straight into the schema,
and a way to make writes fail."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import secrets
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

BACKENDS = ("sqlite", "postgres")
POSTGRES_URL = os.environ.get(
    "PETITION_WIDGET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REFUSED = "writes refused by a test"


def shared_redis_url(db: int) -> str:
    """Database `db` of the machine's Redis, two lower for each further pytest-xdist worker
    (gw1, gw2, ...; `pytest -n N`), so that tests running side by side never flush or count
    each other's keys (test_abuse uses 15 and test_deployment 14: worker N 15-2N and 14-2N)."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    if db - 2 * worker < 0:
        raise RuntimeError("Redis has 16 databases: run the tests in at most 7 processes")
    return f"redis://127.0.0.1:6379/{db - 2 * worker}"


class Database(ABC):
    kind: str
    url: str  # the PETITION_WIDGET_DATABASE value

    @abstractmethod
    def rows(self, sql: str, *params: Any) -> list[tuple]:
        """A query's rows as tuples; `?` marks each parameter."""

    @abstractmethod
    def execute(self, sql: str, *params: Any) -> None: ...

    @abstractmethod
    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        """Rows written straight into a table, as an older version or another tool might."""

    def add_to_count(self, slug: str, n: int) -> None:
        """Count rows that a test inserted straight into the signatures table."""
        self.execute(
            "INSERT INTO campaign_counts (campaign, shard, n) VALUES (?, 0, ?) "
            "ON CONFLICT (campaign, shard) DO UPDATE SET n = campaign_counts.n + excluded.n",
            slug,
            n,
        )

    @abstractmethod
    def snapshot(self) -> bytes:
        """Everything stored, as bytes that change exactly when a stored value changes."""

    @abstractmethod
    def raw_bytes(self) -> bytes:
        """Every byte the database keeps for this test, old row versions and indexes included,
        to search for what must never be stored."""

    @abstractmethod
    def writes_refused(self) -> contextlib.AbstractContextManager[None]:
        """While inside, inserting a signature fails in the database itself."""

    def drop(self) -> None:  # noqa: B027 - nothing to do for a file in tmp_path
        """Remove what the test made."""


class SQLiteDatabase(Database):
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = str(path)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        db = self._connect()
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def execute(self, sql: str, *params: Any) -> None:
        db = self._connect()
        try:
            with db:
                db.execute(sql, params)
        finally:
            db.close()

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        db = self._connect()
        try:
            with db:
                db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        finally:
            db.close()

    def snapshot(self) -> bytes:
        return self.path.read_bytes()

    def raw_bytes(self) -> bytes:
        # The database, its write-ahead log and shared memory file, as they are on disk.
        return b"".join(p.read_bytes() for p in sorted(self.path.parent.glob(self.path.name + "*")))

    @contextlib.contextmanager
    def writes_refused(self) -> Iterator[None]:
        self.execute(
            "CREATE TRIGGER refuse_writes BEFORE INSERT ON signatures "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
        try:
            yield
        finally:
            self.execute("DROP TRIGGER refuse_writes")


class PostgresDatabase(Database):
    """A schema of its own in the test database, dropped afterwards."""

    kind = "postgres"

    def __init__(self, name: str | None = None) -> None:
        self.schema = name or "pw_" + secrets.token_hex(6)
        self.url = f"{POSTGRES_URL}?schema={self.schema}"

    def _run(self, work):
        """Run `work(connection)` on a connection of its own, in a thread of its own, so that
        sync and async tests alike can call it without touching the test's event loop."""

        async def go():
            db = await asyncpg.connect(
                POSTGRES_URL, server_settings={"search_path": self.schema}, timeout=10
            )
            try:
                return await work(db)
            finally:
                await db.close()

        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, go()).result()

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        records = self._run(lambda db: db.fetch(_numbered(sql), *params))
        return [tuple(record) for record in records]

    def execute(self, sql: str, *params: Any) -> None:
        self._run(lambda db: db.execute(_numbered(sql), *params))

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        records = list(rows)
        self._run(lambda db: db.copy_records_to_table(table, records=records, columns=columns))

    async def _tables(self, db: asyncpg.Connection) -> bytes:
        out = io.BytesIO()
        names = await db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
            self.schema,
        )
        for (name,) in names:
            # Binary COPY: BYTEA and TEXT as their own bytes, not hex or escapes.
            await db.copy_from_table(name, schema_name=self.schema, output=out, format="binary")
        return out.getvalue()

    def snapshot(self) -> bytes:
        return self._run(self._tables)

    def raw_bytes(self) -> bytes:
        async def every_byte(db: asyncpg.Connection) -> bytes:
            stored = await self._tables(db)
            superuser = await db.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = user")
            if not superuser:
                return stored  # the pages on disk are readable by a superuser only
            # The pages themselves: dead row versions, index entries and TOAST as well as what
            # a query sees. CHECKPOINT first, so the files hold what the buffers hold.
            await db.execute("CHECKPOINT")
            files = await db.fetch(
                "WITH relations AS ("
                "  SELECT oid FROM pg_class WHERE relnamespace = $1::regnamespace"
                "  AND relkind IN ('r', 'i', 'S')"
                "  UNION ALL SELECT reltoastrelid FROM pg_class"
                "  WHERE relnamespace = $1::regnamespace AND reltoastrelid <> 0) "
                "SELECT pg_read_binary_file(pg_relation_filepath(oid), 0, pg_relation_size(oid), "
                "true) FROM relations",
                self.schema,
            )
            return stored + b"".join(data or b"" for (data,) in files)

        return self._run(every_byte)

    @contextlib.contextmanager
    def writes_refused(self) -> Iterator[None]:
        self.execute(
            "CREATE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$BEGIN RAISE EXCEPTION '{REFUSED}'; END$$"
        )
        self.execute(
            "CREATE TRIGGER refuse_writes BEFORE INSERT ON signatures "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_writes()"
        )
        try:
            yield
        finally:
            self.execute("DROP TRIGGER refuse_writes ON signatures")
            self.execute("DROP FUNCTION refuse_writes()")

    def drop(self) -> None:
        async def drop(db: asyncpg.Connection) -> None:
            await db.execute("SET lock_timeout = '10s'")
            await db.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

        self._run(drop)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2, …"""
    numbers = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


@cache
def postgres_unreachable() -> str | None:
    """Why the test PostgreSQL cannot be used, or None if it can. Asked once per run."""

    async def connect() -> None:
        db = await asyncpg.connect(POSTGRES_URL, timeout=5)
        await db.close()

    try:
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, connect()).result()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


async def made_live(database: str) -> None:
    """Make `database` (a path or URL no server has started on yet) with the shipped campaign
    counted live: a server started on it then loads no default, and the tests that check the
    public count against the rows stored while servers run (kill -9, full disks, several
    instances) can see it move. The shipped campaign is counted hourly."""
    from widget.app import load_default_campaign
    from widget.store import open_store

    store = open_store(database)
    await store.open()
    try:
        await load_default_campaign(store)
        await counted_live_in(store)
    finally:
        await store.close()


async def counted_live_in(store: Any, slug: str = "belarus") -> bool:
    """The campaign's count shown live, as the shipped Belarus campaign's was before it was
    published hourly (no audit entry: a test's set-up, not an operator's action). Whether it
    was counted in steps before."""
    from dataclasses import replace

    for campaign, _ in await store.campaigns():
        if campaign.slug == slug and campaign.count_every_hours:
            await store.save_campaign(replace(campaign, count_every_hours=0))
            return True
    return False


def live_from_start(database: str | Path) -> None:
    """`made_live` from a test that is not a coroutine (in a thread of its own: Playwright's
    tests run inside an event loop)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, made_live(str(database))).result()
