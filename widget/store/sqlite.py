"""SQLite backend: WAL mode, one reading connection, and one writing connection that the
group-committing writer (widget/store/writer.py) and every other write share in turn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from widget import campaigns as campaigns_mod
from widget import files
from widget.campaigns import Campaign
from widget.partners import Partner
from widget.sealing import PERSONAL_FIELDS, SealedSignature, Sealer
from widget.settings import SettingsError
from widget.store import AuditEntry, SignatureRow, Stats, Store, StoreError
from widget.store.writer import GroupWriter

SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")  # never OFF: an acknowledged signature must stay
BUSY_SECONDS = 10.0

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
    """
    CREATE TABLE operators (
        email TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE partners (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        contact TEXT NOT NULL DEFAULT '',
        origins TEXT NOT NULL DEFAULT '[]',
        link_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    ALTER TABLE signatures ADD COLUMN partner_opt_in INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX signatures_email_key ON signatures (email_key);
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        campaign TEXT,
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
    # Exports page through a campaign by id; without this each page sorted the whole campaign.
    """
    CREATE INDEX signatures_campaign_id ON signatures (campaign, id);
    """,
    # Personal data sealed to the operator's key (and an opted-in partner's); the plaintext
    # columns stay for rows written before, until `petition-widget seal` converts them.
    """
    ALTER TABLE signatures ADD COLUMN sealed BLOB;
    ALTER TABLE signatures ADD COLUMN partner_sealed BLOB;
    ALTER TABLE signatures ADD COLUMN domain_key BLOB;
    ALTER TABLE signatures ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE signatures ADD COLUMN invalid INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE partners ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
    """,
    # Every accepted signature is its own row, a repeated address included, so that the count
    # moves the same way whatever the address (no membership oracle). The unique constraint
    # lives in the table's definition, so the table is rebuilt; every row is copied.
    """
    CREATE TABLE signatures_received (
        id INTEGER PRIMARY KEY,
        campaign TEXT NOT NULL REFERENCES campaigns(slug),
        email_key BLOB NOT NULL,
        first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT '',
        country TEXT NOT NULL,
        postal_code TEXT NOT NULL DEFAULT '',
        opt_in INTEGER NOT NULL,
        partner TEXT,
        signed_at TEXT NOT NULL,
        partner_opt_in INTEGER NOT NULL DEFAULT 0,
        sealed BLOB,
        partner_sealed BLOB,
        domain_key BLOB,
        held INTEGER NOT NULL DEFAULT 0,
        invalid INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO signatures_received (id, campaign, email_key, first_name, last_name, email,
        country, postal_code, opt_in, partner, signed_at, partner_opt_in, sealed,
        partner_sealed, domain_key, held, invalid)
    SELECT id, campaign, email_key, first_name, last_name, email, country, postal_code,
        opt_in, partner, signed_at, partner_opt_in, sealed, partner_sealed, domain_key, held,
        invalid
    FROM signatures;
    DROP TABLE signatures;
    ALTER TABLE signatures_received RENAME TO signatures;
    CREATE INDEX signatures_campaign_time ON signatures (campaign, signed_at);
    CREATE INDEX signatures_campaign_id ON signatures (campaign, id);
    CREATE INDEX signatures_email_key ON signatures (email_key);
    CREATE INDEX signatures_campaign_signer ON signatures (campaign, email_key, id);
    """,
)

_INSERT = """
    INSERT INTO signatures (campaign, email_key, domain_key, sealed, partner_sealed,
                            first_name, last_name, email, postal_code,
                            country, opt_in, partner, partner_opt_in, signed_at, held)
    VALUES (?, ?, ?, ?, ?, '', '', '', '', ?, ?, ?, ?, ?, ?)
"""
# A signature counts once it is neither held for review nor invalidated.
COUNTED = "held = 0 AND invalid = 0"
# A signer's latest counted signature: the one whose consents the exports follow.
LATEST = (
    "NOT EXISTS (SELECT 1 FROM signatures AS later WHERE later.campaign = signatures.campaign "
    "AND later.email_key = signatures.email_key AND later.id > signatures.id "
    "AND later.held = 0 AND later.invalid = 0)"
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(s: SealedSignature) -> tuple[Any, ...]:
    return (
        s.campaign, s.email_key, s.domain_key, s.sealed, s.partner_sealed, s.country,
        int(s.opt_in), s.partner, int(s.partner_opt_in), s.signed_at, int(s.held),
    )  # fmt: skip


class SQLiteStore(Store):
    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        super().__init__()
        if synchronous.upper() not in SYNCHRONOUS:
            raise SettingsError(
                f"PETITION_WIDGET_SQLITE_SYNCHRONOUS: must be one of {', '.join(SYNCHRONOUS)}"
            )
        self.path = path
        self.synchronous = synchronous.upper()
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # A lambda, so that the batch function is looked up on each commit (tests spy on it).
        self._signatures = GroupWriter(
            lambda batch: self._store_batch(batch), self._notify, name="sqlite-writer"
        )

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None)
        await db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute(f"PRAGMA synchronous = {self.synchronous}")
        # Deleted and purged personal data is overwritten, not left in free pages.
        await db.execute("PRAGMA secure_delete = ON")
        return db

    async def open(self) -> None:
        # aiosqlite's DEBUG log repeats every statement with its parameters: signer data.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        _owner_only(Path(self.path))
        self._writer = await self._connect()
        await self._initialise()
        self._reader = await self._connect()
        self._signatures.start()

    async def close(self) -> None:
        await self._signatures.stop()
        for db in (self._reader, self._writer):
            if db is not None:
                await db.close()
        self._reader = self._writer = None

    async def ping(self) -> None:
        try:
            await self._all("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreError("the database does not answer") from exc

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writing connection inside one immediate transaction, one writer at a time."""
        db = self._writer
        if db is None:
            raise StoreError("the store is not open")
        async with self._write_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(Exception):
                    await db.rollback()
                raise
            await db.commit()

    async def _initialise(self) -> None:
        """WAL mode, then the migrations. Processes opening a new file together can find it
        locked where SQLite's busy handler will not wait (it refuses when waiting could
        deadlock), so this tries again for as long as the busy timeout."""
        assert self._writer is not None
        deadline = time.monotonic() + BUSY_SECONDS
        delay = 0.01
        while True:
            try:
                mode = await _value(self._writer, "PRAGMA journal_mode = WAL")
                if mode.lower() != "wal":  # another connection held the file: not switched
                    raise sqlite3.OperationalError("database is locked")
                await self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _migrate(self) -> None:
        async with self._transaction() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = await _value(db, "SELECT coalesce(max(version), 0) FROM schema_migrations")
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, _now()),
                )

    def _read(
        self, sql: str, params: tuple[Any, ...] = ()
    ) -> aiosqlite.context.Result[aiosqlite.Cursor]:
        if self._reader is None:
            raise StoreError("the store is not open")
        return self._reader.execute(sql, params)

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        async with self._read(sql, params) as cursor:
            return list(await cursor.fetchall())

    # Campaigns -------------------------------------------------------------------------------

    async def save_campaign(self, campaign: Campaign) -> bool:
        now = _now()
        config = json.dumps(campaign.to_dict(), ensure_ascii=False, sort_keys=True)
        async with self._transaction() as db:
            exists = await _one(db, "SELECT 1 FROM campaigns WHERE slug = ?", (campaign.slug,))
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
        return exists is None

    async def campaigns(self) -> list[tuple[Campaign, int]]:
        rows = await self._all("SELECT config, signature_count FROM campaigns ORDER BY slug")
        return [(campaigns_mod.parse(json.loads(config)), count) for config, count in rows]

    async def campaigns_revision(self) -> str:
        # Partners' origins feed the campaigns' frame-ancestors, so they count as a change.
        rows = await self._all(
            "SELECT (SELECT coalesce(max(revision), 0) FROM campaigns), "
            "(SELECT count(*) || max(updated_at) FROM partners)"
        )
        return ":".join(str(part) for part in rows[0])

    async def counts(self) -> dict[str, int]:
        return dict(await self._all("SELECT slug, signature_count FROM campaigns"))

    async def unique_signers(self) -> dict[str, int]:
        return dict(await self._all(
            "SELECT slug, (SELECT count(DISTINCT email_key) FROM signatures "
            f"WHERE campaign = slug AND {COUNTED}) FROM campaigns"
        ))  # fmt: skip

    # Signatures ------------------------------------------------------------------------------

    async def add_signature(self, signature: SealedSignature) -> None:
        await self._signatures.submit(signature)

    async def _store_batch(self, batch: list[SealedSignature]) -> dict[str, int]:
        """One transaction for the whole batch; returns the signatures counted per campaign.
        A repeated address is stored and counted like a first one: the same work, the same
        answer, the same count."""
        added: dict[str, int] = defaultdict(int)
        for signature in batch:
            added[signature.campaign] += 0 if signature.held else 1  # held: not yet counted
        async with self._transaction() as db:
            await db.executemany(_INSERT, [_row(signature) for signature in batch])
            for slug, n in added.items():
                await _bump(db, slug, n, always=True)
        return {slug: n for slug, n in added.items() if n}

    async def delete_signer(self, email_key: bytes, campaign: str | None = None) -> dict[str, int]:
        where, params = "email_key = ?", list[Any]([email_key])
        if campaign is not None:
            where, params = where + " AND campaign = ?", [*params, campaign]
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT campaign, count(*), sum({COUNTED}) FROM signatures WHERE {where} "
                "GROUP BY campaign",
                params,
            ) as cursor:
                rows = list(await cursor.fetchall())
            await db.execute(f"DELETE FROM signatures WHERE {where}", params)
            for slug, _, counted in rows:
                await _bump(db, slug, -counted)
        self._notify({slug: -counted for slug, _, counted in rows})
        return {slug: n for slug, n, _ in rows}

    async def seal_legacy_rows(self, sealer: Sealer, chunk: int = 500) -> int:
        sealed = 0
        while True:
            async with self._transaction() as db:
                async with db.execute(
                    "SELECT id, first_name, last_name, email, postal_code FROM signatures "
                    "WHERE sealed IS NULL LIMIT ?",
                    (chunk,),
                ) as cursor:
                    rows = list(await cursor.fetchall())
                await db.executemany(
                    "UPDATE signatures SET sealed = ?, first_name = '', last_name = '', "
                    "email = '', postal_code = '' WHERE id = ?",
                    [
                        (
                            sealer.seal_personal(dict(zip(PERSONAL_FIELDS, row[1:], strict=True))),
                            row[0],
                        )
                        for row in rows
                    ],
                )
            sealed += len(rows)
            if len(rows) < chunk:
                break
        await self._compact()
        return sealed

    async def unsealed_count(self) -> int:
        rows = await self._all("SELECT count(*) FROM signatures WHERE sealed IS NULL")
        return int(rows[0][0])

    async def purge(self, campaign: str, before: str) -> int:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE signatures SET sealed = NULL, partner_sealed = NULL, domain_key = NULL, "
                "email_key = randomblob(32), first_name = '', last_name = '', email = '', "
                "postal_code = '' WHERE campaign = ? AND signed_at <= ? "
                "AND (sealed IS NOT NULL OR email != '')",
                (campaign, before),
            )
            purged = cursor.rowcount
        await self._compact()
        return purged

    async def forget_domains(self) -> int:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE signatures SET domain_key = NULL WHERE domain_key IS NOT NULL"
            )
            cleared = cursor.rowcount
        await self._compact()
        return cleared

    async def release_held(self, campaign: str) -> int:
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE signatures SET held = 0 WHERE campaign = ? AND held = 1 AND invalid = 0",
                (campaign,),
            )
            released = cursor.rowcount
            await _bump(db, campaign, released)
        self._notify({campaign: released})
        return released

    async def invalidate(
        self,
        campaign: str,
        partner: str | None = None,
        since: str | None = None,
        until: str | None = None,
        domain_key: bytes | None = None,
    ) -> int:
        where, params = ["campaign = ?", "invalid = 0"], list[Any]([campaign])
        for clause, value in (
            ("partner = ?", partner), ("signed_at >= ?", since), ("signed_at < ?", until),
            ("domain_key = ?", domain_key),
        ):  # fmt: skip
            if value is not None:
                where.append(clause)
                params.append(value)
        condition = " AND ".join(where)
        async with self._transaction() as db:
            counted = await _value(
                db,
                f"SELECT coalesce(sum(held = 0), 0) FROM signatures WHERE {condition}",
                tuple(params),
            )
            cursor = await db.execute(
                f"UPDATE signatures SET invalid = 1 WHERE {condition}",
                params,
            )
            invalidated = cursor.rowcount
            await _bump(db, campaign, -counted)
        self._notify({campaign: -counted})
        return invalidated

    async def _compact(self) -> None:
        """Rewrite the file so no page keeps an old copy of what was sealed or purged."""
        async with self._write_lock:
            assert self._writer is not None
            for statement in (
                "PRAGMA wal_checkpoint(TRUNCATE)",
                "VACUUM",
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ):
                async with self._writer.execute(statement) as cursor:
                    await cursor.fetchall()  # a statement left unfinished would block VACUUM

    async def signature_rows(
        self, campaign: str, partner: str | None = None, chunk: int = 1000
    ) -> AsyncIterator[list[SignatureRow]]:
        last = 0
        where = f"campaign = ? AND id > ? AND {COUNTED} AND {LATEST}"
        if partner is not None:
            where += " AND partner = ? AND partner_opt_in = 1"
        while True:
            params = (campaign, last, partner) if partner is not None else (campaign, last)
            rows = await self._all(
                "SELECT id, sealed, partner_sealed, country, opt_in, partner, partner_opt_in, "
                "signed_at, first_name, last_name, email, postal_code FROM signatures "
                f"WHERE {where} ORDER BY id LIMIT {int(chunk)}",
                params,
            )
            if not rows:
                return
            last = rows[-1][0]
            yield [_signature_row(row) for row in rows]

    async def stats(self, campaign: str, since: str) -> Stats:
        per_day = await self._all(
            "SELECT substr(signed_at, 1, 10) AS day, count(*) FROM signatures "
            f"WHERE campaign = ? AND {COUNTED} GROUP BY day ORDER BY day",
            (campaign,),
        )
        by_country = await self._all(
            "SELECT country, count(*) AS n FROM signatures "
            f"WHERE campaign = ? AND {COUNTED} GROUP BY country ORDER BY n DESC, country",
            (campaign,),
        )
        by_partner = await self._all(
            "SELECT coalesce(partner, ''), count(*) AS n, sum(partner_opt_in) FROM signatures "
            f"WHERE campaign = ? AND {COUNTED} GROUP BY partner ORDER BY n DESC, partner",
            (campaign,),
        )
        (recent,) = (await self._all(
            f"SELECT count(*) FROM signatures WHERE campaign = ? AND signed_at >= ? AND {COUNTED}",
            (campaign, since),
        ))[0]  # fmt: skip
        (held, signers) = (await self._all(
            "SELECT coalesce(sum(held = 1 AND invalid = 0), 0), "
            f"count(DISTINCT CASE WHEN {COUNTED} THEN email_key END) "
            "FROM signatures WHERE campaign = ?",
            (campaign,),
        ))[0]  # fmt: skip
        return Stats(per_day, by_country, by_partner, recent, held, signers)

    # Partners --------------------------------------------------------------------------------

    async def save_partner(self, partner: Partner) -> bool:
        now = _now()
        async with self._transaction() as db:
            exists = await _one(db, "SELECT 1 FROM partners WHERE code = ?", (partner.code,))
            await db.execute(
                """
                INSERT INTO partners (code, name, contact, origins, link_key, public_key,
                                      created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (code) DO UPDATE SET
                    name = excluded.name, contact = excluded.contact,
                    origins = excluded.origins, link_key = excluded.link_key,
                    public_key = excluded.public_key, updated_at = excluded.updated_at
                """,
                (partner.code, partner.name, partner.contact, json.dumps(partner.origins),
                 partner.link_key, partner.public_key, now, now),
            )  # fmt: skip
        return exists is None

    async def partners(self) -> list[Partner]:
        rows = await self._all(
            "SELECT code, name, contact, origins, link_key, public_key FROM partners ORDER BY code"
        )
        return [
            Partner(code, name, contact, tuple(json.loads(origins)), key, public_key)
            for code, name, contact, origins, key, public_key in rows
        ]

    # Operators -------------------------------------------------------------------------------

    async def save_operator(self, email: str, password_hash: str) -> bool:
        async with self._transaction() as db:
            exists = await _one(db, "SELECT 1 FROM operators WHERE email = ?", (email,))
            await db.execute(
                "INSERT INTO operators (email, password_hash, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
                (email, password_hash, _now()),
            )
        return exists is None

    async def operator_hash(self, email: str) -> str | None:
        rows = await self._all("SELECT password_hash FROM operators WHERE email = ?", (email,))
        return rows[0][0] if rows else None

    async def operators(self) -> list[tuple[str, str]]:
        return await self._all("SELECT email, created_at FROM operators ORDER BY email")

    async def remove_operator(self, email: str) -> bool:
        async with self._transaction() as db:
            cursor = await db.execute("DELETE FROM operators WHERE email = ?", (email,))
            return cursor.rowcount > 0

    # Audit log -------------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, campaign: str | None, detail: str) -> None:
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO audit_log (at, actor, action, campaign, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                (_now(), actor, action, campaign, detail),
            )

    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        rows = await self._all(
            "SELECT at, actor, action, campaign, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*row) for row in rows]


def _owner_only(path: Path) -> None:
    """The database file made owner-only before SQLite opens it, whatever the umask. SQLite
    gives its -wal and -shm files the database's own mode; files from before are tightened."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, files.FILE_MODE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        files.tighten(path.with_name(path.name + suffix))


def _signature_row(row: tuple[Any, ...]) -> SignatureRow:
    _, sealed, partner_sealed, country, opt_in, partner, partner_opt_in, signed_at = row[:8]
    # Rows written before sealing keep their plaintext until `petition-widget seal`.
    legacy = None if sealed is not None else dict(zip(PERSONAL_FIELDS, row[8:], strict=True))
    return SignatureRow(
        sealed, partner_sealed, country, opt_in, partner, partner_opt_in, signed_at, legacy
    )


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first row, or None."""
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _value(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The one value of a query that always returns one row (an aggregate, a PRAGMA)."""
    row = await _one(db, sql, params)
    if row is None:
        raise StoreError("the database returned no row")
    return row[0]


async def _bump(db: aiosqlite.Connection, slug: str, by: int, always: bool = False) -> None:
    """Keep the campaign's maintained count in step, in the same transaction."""
    if by or always:
        await db.execute(
            "UPDATE campaigns SET signature_count = signature_count + ? WHERE slug = ?",
            (by, slug),
        )
