"""SQLite backend: WAL mode, one reading connection, and one writer task that group-commits
the signatures arriving together into one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from widget import campaigns as campaigns_mod
from widget.campaigns import Campaign
from widget.signing import Signature
from widget.store import Store, StoreError

log = logging.getLogger(__name__)

MAX_BATCH = 256
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE campaigns (
        slug TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        revision INTEGER NOT NULL,
        signature_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE signatures (
        id INTEGER PRIMARY KEY,
        campaign TEXT NOT NULL REFERENCES campaigns(slug),
        email_key BLOB NOT NULL,
        first_name TEXT NOT NULL,
        last_name TEXT NOT NULL,
        email TEXT NOT NULL,
        country TEXT NOT NULL,
        postal_code TEXT NOT NULL DEFAULT '',
        opt_in INTEGER NOT NULL,
        partner TEXT,
        signed_at TEXT NOT NULL,
        UNIQUE (campaign, email_key)
    );
    CREATE INDEX signatures_campaign_time ON signatures (campaign, signed_at);
    """,
)

_INSERT = """
    INSERT INTO signatures (campaign, email_key, first_name, last_name, email, country,
                            postal_code, opt_in, partner, signed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (campaign, email_key) DO NOTHING
"""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(s: Signature) -> tuple:
    return (
        s.campaign, s.email_key, s.first_name, s.last_name, s.email, s.country,
        s.postal_code, int(s.opt_in), s.partner, s.signed_at,
    )  # fmt: skip


class SQLiteStore(Store):
    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        super().__init__()
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        self.path = path
        self.synchronous = synchronous.upper()
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[tuple[Signature, asyncio.Future[None]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None)
        await db.execute("PRAGMA busy_timeout = 10000")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute(f"PRAGMA synchronous = {self.synchronous}")
        return db

    async def open(self) -> None:
        # aiosqlite's debug log repeats every statement with its parameters: names and
        # addresses. Keep it at INFO, whatever level the application logs at.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._migrate(self._writer)
        self._reader = await self._connect()
        self._task = asyncio.create_task(self._write_loop(), name="sqlite-writer")

    async def close(self) -> None:
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        for db in (self._reader, self._writer):
            if db is not None:
                await db.close()
        self._reader = self._writer = None

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        await db.execute("BEGIN IMMEDIATE")
        try:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            async with db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations") as c:
                (current,) = await c.fetchone()
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, _now()),
                )
            await db.commit()
        except BaseException:
            await db.rollback()
            raise

    # Campaigns -------------------------------------------------------------------------------

    async def save_campaign(self, campaign: Campaign) -> bool:
        now = _now()
        config = json.dumps(campaign.to_dict(), ensure_ascii=False, sort_keys=True)
        db = self._writer
        assert db is not None, "store is not open"
        await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute(
                "SELECT 1 FROM campaigns WHERE slug = ?", (campaign.slug,)
            ) as cursor:
                exists = await cursor.fetchone() is not None
            await db.execute(
                """
                INSERT INTO campaigns (slug, config, revision, created_at, updated_at)
                VALUES (?, ?, (SELECT coalesce(max(revision), 0) + 1 FROM campaigns), ?, ?)
                ON CONFLICT (slug) DO UPDATE SET
                    config = excluded.config,
                    revision = excluded.revision,
                    updated_at = excluded.updated_at
                """,
                (campaign.slug, config, now, now),
            )
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        return not exists

    async def campaigns(self) -> list[tuple[Campaign, int]]:
        async with self._read("SELECT config, signature_count FROM campaigns ORDER BY slug") as c:
            rows = await c.fetchall()
        return [(campaigns_mod.parse(json.loads(config)), count) for config, count in rows]

    async def campaigns_revision(self) -> int:
        async with self._read("SELECT coalesce(max(revision), 0) FROM campaigns") as c:
            (revision,) = await c.fetchone()
        return revision

    async def counts(self) -> dict[str, int]:
        async with self._read("SELECT slug, signature_count FROM campaigns") as c:
            return dict(await c.fetchall())

    def _read(self, sql: str, params: tuple = ()):
        assert self._reader is not None, "store is not open"
        return self._reader.execute(sql, params)

    # Signatures ------------------------------------------------------------------------------

    async def add_signature(self, signature: Signature) -> None:
        if self._task is None or self._task.done():
            raise StoreError("the store is not accepting signatures")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((signature, done))
        await done

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    await self._commit(batch)
                    return
                batch.append(nxt)
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Signature, asyncio.Future[None]]]) -> None:
        """One transaction for the whole batch: all of it is committed, or none of it is."""
        db = self._writer
        assert db is not None
        by_campaign: dict[str, list[tuple]] = defaultdict(list)
        for signature, _ in batch:
            by_campaign[signature.campaign].append(_row(signature))
        added: dict[str, int] = {}
        try:
            await db.execute("BEGIN IMMEDIATE")
            for slug, rows in by_campaign.items():
                before = db.total_changes
                await db.executemany(_INSERT, rows)
                added[slug] = db.total_changes - before
                if added[slug]:
                    await db.execute(
                        "UPDATE campaigns SET signature_count = signature_count + ? WHERE slug = ?",
                        (added[slug], slug),
                    )
            await db.commit()
        except Exception as exc:
            log.error("a batch of %d signatures was not stored: %r", len(batch), exc)
            with contextlib.suppress(Exception):
                await db.rollback()
            for _, done in batch:
                if not done.done():
                    done.set_exception(StoreError("the signature was not stored"))
            return
        self._notify(added)
        for _, done in batch:
            if not done.done():
                done.set_result(None)
