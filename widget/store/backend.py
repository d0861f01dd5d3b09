"""What a database backend supplies to the one storage gateway (widget/store/gateway.py): its
connections, its migrations and locking, and the few SQL fragments that truly differ. Every
query the gateway runs is written once, with `?` placeholders; every driver error leaves the
backend as a StoreError."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from widget.sealing import SealedSignature
from widget.store.types import StoreError


def now() -> str:
    """Every stored time: ISO 8601 UTC to the second, compared and sorted as text."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signature_row(s: SealedSignature) -> tuple[Any, ...]:
    """A signature's columns, in the order of SIGNATURE_COLUMNS."""
    return (
        s.campaign, s.email_key, s.domain_key, s.sealed, s.partner_sealed, s.country,
        s.opt_in, s.partner, s.partner_opt_in, s.signed_at, s.held, s.withdraw_key,
        s.pending, s.confirm_key,
    )  # fmt: skip


SIGNATURE_COLUMNS = (
    "campaign, email_key, domain_key, sealed, partner_sealed, country, opt_in, partner, "
    "partner_opt_in, signed_at, held, withdraw_key, pending, confirm_key"
)


class Connection(ABC):
    """One connection (or a transaction on one), driver errors turned into StoreError."""

    @abstractmethod
    async def execute(self, sql: str, *params: Any) -> int:
        """Run a statement; the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]: ...

    async def fetchval(self, sql: str, *params: Any) -> Any:
        """The first column of the first row, or None."""
        rows = await self.fetch(sql, *params)
        return rows[0][0] if rows else None


async def apply_migrations(
    tx: Connection,
    migrations: Sequence[str],
    run: Callable[[Connection, list[tuple[int, str]]], Awaitable[None]],
) -> None:
    """Apply, inside `tx`, the migrations the schema_migrations table does not list yet, with
    the backend's `run`, which gets them all at once (SQLite runs them one statement at a
    time in one trip to its thread, PostgreSQL each as a whole script), and record them."""
    await tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    current = await tx.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
    pending = [(v, script) for v, script in enumerate(migrations, start=1) if v > current]
    if pending:
        await run(tx, pending)
        await tx.executemany(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
            [(version, now()) for version, _ in pending],
        )


class Backend(ABC):
    """A database the gateway can use: SQLite for one process, PostgreSQL for several."""

    # How many count rows each campaign has: several let concurrent commits (PostgreSQL, many
    # instances) add to different rows; one is enough where commits take turns anyway.
    shards: int = 1
    # An SQL expression for 32 random bytes (a purged row's new email key).
    random_key: str
    # Appended to a SELECT whose rows the transaction will update.
    for_update: str = ""

    @abstractmethod
    async def open(self) -> None:
        """Connect, and create or migrate the schema."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Return once the database answers; raise StoreError if it does not."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for reading, outside any write transaction."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    async def insert_signatures(
        self, batch: list[SealedSignature], counted: dict[str, int], shard: int
    ) -> None:
        """Insert a batch of signatures and add `counted` to each campaign's count shard, all
        in one transaction (every campaign of the batch is written, even with 0)."""

    @abstractmethod
    async def compact(self) -> None:
        """Rewrite the signatures' storage so no old copy of a changed row is left."""

    async def copy_to(self, target: str) -> int:
        """Write a consistent, compacted copy of the whole database into the empty file
        `target`, check it, and return how many signatures it holds. StoreError where the
        database is copied with its own tools (PostgreSQL: pg_dump)."""
        raise StoreError("this database is copied with its own tools")


__all__ = [
    "SIGNATURE_COLUMNS", "Backend", "Connection", "StoreError", "apply_migrations", "now",
    "signature_row",
]  # fmt: skip
