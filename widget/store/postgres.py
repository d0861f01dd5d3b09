"""PostgreSQL backend (asyncpg): several stateless instances share one database. Each instance
keeps its own group-committing writer; the counts live in sharded rows so that the instances'
commits do not queue behind one another on a single counter row. The gateway
(widget/store/gateway.py) holds every query; this holds the pool, the schema and the one
statement that stores a batch of signatures."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from widget.sealing import SealedSignature
from widget.settings import ENV_PREFIX, SettingsError
from widget.store.backend import Backend, Connection, apply_migrations, signature_row
from widget.store.gateway import Store
from widget.store.postgres_schema import MIGRATIONS
from widget.store.types import StoreError

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# pg_advisory_xact_lock(MIGRATION_LOCK, crc32 of the schema): instances starting together
# migrate one at a time, and test runs in other schemas do not wait for each other.
MIGRATION_LOCK = 0x7057
PING_SECONDS = 2.0
CLOSE_SECONDS = 10.0
# Every wait on the database is bounded (PETITION_WIDGET_DB_TIMEOUT_SECONDS): connecting, taking
# a connection from the pool, each statement (COMMIT and the pool's reset included), giving it
# back, and a signing batch as a whole. A frozen or unreachable server then costs a request at
# most that long, and the reader is told to try again. A purge of a very large campaign from
# the command line may need a longer limit.
DEFAULT_TIMEOUT = 10.0

# Why shards. With one count per campaign, every commit that adds a signature must update that
# one row, and PostgreSQL holds the row's lock until the transaction commits: the instances'
# writers would take turns on it, one commit (and its fsync) at a time, however many instances
# run. The UK Parliament's petitions site met this with the "Revoke Article 50" petition in
# March 2019: "lots of +1 queries are preventing the app from reading the row of a popular
# petition" (alphagov/e-petitions pull request 691, which batched the +1s into one task).
# Here each batch (one per instance at a time) adds to one of SHARDS rows of the campaign,
# chosen at random, so concurrent batches rarely meet on a row; a count is the sum of its
# shards, and deletions, invalidations and releases adjust any shard by exactly their number.
SHARDS = 16

log = logging.getLogger(__name__)

# VACUUM FULL copies every row version that a transaction still open might see: one that began
# before a seal, purge or "forget domains" committed would keep the old version, plaintext or
# hash, in the rewritten file. Compaction waits this long for such transactions to end: enough
# for the instances' own (they last milliseconds), short of a proxy's limit on the admin's
# purge button; a longer one (pg_dump, say) is reported in the log instead.
COMPACT_WAIT_SECONDS = 15.0
_OLDER_TRANSACTIONS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND xact_start < ? "
    "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)"
)


# A whole batch in one statement, so one transaction and one round trip: insert every signature
# (a repeated address too: stored and counted like a first one) and add what counts to one
# shard of each campaign (every campaign of the batch, with 0 for a batch held for review, so
# that every commit does the same work). Ids are drawn in the order the signatures arrived.
_INSERT_BATCH = """
    WITH batch AS (
        SELECT *, nextval('signatures_id_seq') AS id
        FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[],
                    $7::boolean[], $8::text[], $9::boolean[], $10::text[], $11::boolean[],
                    $12::bytea[], $13::boolean[], $14::bytea[])
             WITH ORDINALITY AS batch (campaign, email_key, domain_key, sealed, partner_sealed,
                                       country, opt_in, partner, partner_opt_in, signed_at,
                                       held, withdraw_key, pending, confirm_key, position)
        ORDER BY position
    ), added AS (
        INSERT INTO signatures (id, campaign, email_key, domain_key, sealed, partner_sealed,
                                country, opt_in, partner, partner_opt_in, signed_at, held,
                                withdraw_key, pending, confirm_key)
        SELECT id, campaign, email_key, domain_key, sealed, partner_sealed,
               country, opt_in, partner, partner_opt_in, signed_at, held, withdraw_key,
               pending, confirm_key
        FROM batch ORDER BY id
        RETURNING 1
    ), bumped AS (
        INSERT INTO campaign_counts (campaign, shard, n)
        SELECT campaign, $15, n FROM unnest($16::text[], $17::bigint[]) AS c (campaign, n)
        ORDER BY campaign
        ON CONFLICT (campaign, shard) DO UPDATE SET n = campaign_counts.n + excluded.n
    )
    SELECT count(*) FROM added
"""
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
_PLACEHOLDER = re.compile(r"\?")


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """The gateway's `?` placeholders as PostgreSQL's $1, $2, …"""
    numbers = iter(range(1, sql.count("?") + 1))
    return _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", sql)


class _Postgres(Connection):
    def __init__(self, db: Any) -> None:  # an asyncpg connection, its statements time-limited
        self.db = db

    async def execute(self, sql: str, *params: Any) -> int:
        try:
            status = await self.db.execute(numbered(sql), *params)
        except _ERRORS as exc:
            raise StoreError("the database refused a statement") from exc
        last = str(status).rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            await self.db.executemany(numbered(sql), rows)
        except _ERRORS as exc:
            raise StoreError("the database refused a statement") from exc

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            return [tuple(row) for row in await self.db.fetch(numbered(sql), *params)]
        except _ERRORS as exc:
            raise StoreError("the database refused a query") from exc


def parse_url(url: str) -> tuple[str, str]:
    """(the URL for asyncpg, the schema): `?schema=NAME` is ours, not a server setting."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    chosen = [value for key, value in query if key == "schema"]
    schema = chosen[-1] if chosen else "public"
    if not SCHEMA_NAME.fullmatch(schema):
        raise SettingsError(
            f"{ENV_PREFIX}DATABASE: schema must be lower-case letters, digits and underscores "
            "(at most 63), starting with a letter or underscore"
        )
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresBackend(Backend):
    random_key = "uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())"
    for_update = " FOR UPDATE"

    def __init__(self, url: str, pool_size: int = 5, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        if pool_size < 1:
            raise SettingsError(f"{ENV_PREFIX}DB_POOL_SIZE: must be at least 1")
        self.dsn, self.schema = parse_url(url)
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    @property
    def shards(self) -> int:  # type: ignore[override]
        return SHARDS  # read each time: bench/instances.py compares shard counts

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                # No floor to keep: asyncpg would retry it in the background through an outage
                # and log a traceback for each try. Connections open as requests need them.
                min_size=0,
                max_size=self.pool_size,
                timeout=self.timeout,  # connecting
                command_timeout=self.timeout,  # each statement, COMMIT and resets included
                server_settings={
                    "search_path": self.schema, "application_name": "petition-widget",
                },
            )  # fmt: skip
        except _ERRORS as exc:
            raise StoreError(f"cannot open the database {self.where}: {_reason(exc)}") from exc
        try:
            await self._migrate()
        except BaseException as exc:
            await self._pool.close()
            self._pool = None
            if isinstance(exc, StoreError):
                cause = exc.__cause__ or exc
                raise StoreError(
                    f"cannot open the database {self.where}: {_reason(cause)}"
                ) from exc
            raise

    @property
    def where(self) -> str:
        """The server and database, for a message: never the password the URL may hold."""
        parts = urlsplit(self.dsn)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"

    async def close(self) -> None:
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), CLOSE_SECONDS)
            except TimeoutError:
                self._pool.terminate()
            self._pool = None

    async def ping(self) -> None:
        try:
            async with self.read() as db:
                await asyncio.wait_for(db.fetch("SELECT 1"), PING_SECONDS)
        except TimeoutError as exc:
            raise StoreError("the database does not answer") from exc

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._acquired() as db:
            yield _Postgres(db)

    @contextlib.asynccontextmanager
    async def _acquired(self) -> AsyncIterator[Any]:
        """A connection from the pool within the time limit (given back within it too)."""
        try:
            async with self.pool.acquire(timeout=self.timeout) as db:
                yield db
        except _ERRORS as exc:
            raise StoreError("the database does not answer") from exc

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        try:
            async with self._acquired() as db, db.transaction():
                yield _Postgres(db)
        except _ERRORS as exc:
            raise StoreError("the transaction failed") from exc

    async def insert_signatures(
        self, batch: list[SealedSignature], counted: dict[str, int], shard: int
    ) -> None:
        # One statement is one transaction, and one round trip.
        columns = [list(c) for c in zip(*(signature_row(s) for s in batch), strict=True)]
        slugs = sorted(counted)  # every batch locks count rows in the same order: no deadlock
        try:
            # The batch as a whole, waits for a connection included, within the limit.
            async with asyncio.timeout(self.timeout), self._acquired() as db:
                await db.fetchval(
                    _INSERT_BATCH, *columns, shard, slugs, [counted[s] for s in slugs]
                )
        except _ERRORS as exc:
            raise StoreError("the batch was not stored") from exc

    async def _migrate(self) -> None:
        async with self.transaction() as tx:
            key = zlib.crc32(self.schema.encode()) - 2**31
            await tx.execute("SELECT pg_advisory_xact_lock(?, ?)", MIGRATION_LOCK, key)
            # The name matched SCHEMA_NAME, so it needs no quoting.
            await tx.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            await apply_migrations(tx, MIGRATIONS, _run_scripts)

    async def compact(self) -> None:
        """Rewrite the signatures table so no dead row version keeps what was sealed or purged,
        once the transactions that could still see one have ended. VACUUM FULL locks the
        table while it runs: signing waits on every instance."""
        async with self.read() as db:
            ((began,),) = await db.fetch("SELECT clock_timestamp()")
            deadline = time.monotonic() + COMPACT_WAIT_SECONDS
            while (older := (await db.fetch(_OLDER_TRANSACTIONS, began))[0][0]) and (
                time.monotonic() < deadline
            ):
                await asyncio.sleep(0.05)
            if older:
                log.warning(
                    "%d transaction(s) open since before the compaction may keep old row "
                    "versions in the signatures table until the next one",
                    older,
                )
            await db.execute("VACUUM FULL signatures")


# Errors of reaching the server, logging in and finding the database: their messages name a
# host, a user or a database, never a row, so a message at start may quote them.
_CONNECTING = (
    OSError, TimeoutError, asyncpg.InterfaceError,
    asyncpg.InvalidAuthorizationSpecificationError, asyncpg.InvalidCatalogNameError,
    asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
)  # fmt: skip


def _reason(exc: BaseException) -> str:
    """Why the database could not be opened: a connection error's own words; for any other
    error its class and code only (a failed statement's message may quote a row)."""
    if isinstance(exc, _CONNECTING):
        return str(exc) or type(exc).__name__
    code = getattr(exc, "sqlstate", None)
    return type(exc).__name__ + (f" ({code})" if code else "")


async def _run_scripts(tx: Connection, pending: list[tuple[int, str]]) -> None:
    assert isinstance(tx, _Postgres)
    for version, script in pending:
        try:
            await tx.db.execute(script)  # several statements: no parameters
        except _ERRORS as exc:
            raise StoreError(f"migration {version} failed") from exc


class PostgresStore(Store):
    """The gateway on a PostgreSQL schema."""

    def __init__(self, url: str, pool_size: int = 5, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.postgres = PostgresBackend(url, pool_size, timeout)
        super().__init__(self.postgres, "postgres")
        self.schema = self.postgres.schema
