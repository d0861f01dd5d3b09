"""What runs in a SQLite connection's own thread, in one trip from the event loop: a signing
batch's whole transaction, or a list of statements (pragmas, a migration)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

from widget.store.backend import SIGNATURE_COLUMNS
from widget.store.types import StoreError

_INSERT = f"INSERT INTO signatures ({SIGNATURE_COLUMNS}) VALUES ({', '.join('?' * 14)})"
_BUMP = (
    "INSERT INTO campaign_counts (campaign, shard, n) VALUES (?, ?, ?) "
    "ON CONFLICT (campaign, shard) DO UPDATE SET n = campaign_counts.n + excluded.n"
)


async def run_in_thread(db: aiosqlite.Connection, statements: list[str]) -> None:
    """Statements run one after another in one trip to the connection's thread, each read to
    its end and its cursor closed (a statement left in progress would make the next COMMIT
    fail, see store_rows). Opening a new database took about 80 trips, 25 ms; then 53 (two for
    each migration), 22 ms; now 16, 14 ms (every migration's statements in one trip)."""
    try:
        await in_connection_thread(db, execute_each, statements)
    except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's closed connection
        raise StoreError("the database refused a statement") from exc


def execute_each(conn: sqlite3.Connection, statements: list[str]) -> None:
    for statement in statements:
        cursor = conn.execute(statement)
        try:
            cursor.fetchall()
        finally:
            cursor.close()


async def in_connection_thread(
    db: aiosqlite.Connection, fn: Callable[..., None], *args: Any
) -> None:
    """fn(the sqlite3 connection, *args) in the connection's own thread, in one trip: a
    signing batch's whole transaction (BEGIN, the rows, the counts, COMMIT) then waits for the
    busy event loop once instead of four times. Measured with bench/run.py: signing about
    2,400 -> 3,000 a second on one core, p99 about 62 -> 50 ms, two workers 1.2 -> 1.6 x one.
    aiosqlite has no public call for this; `_execute` is the queue its own methods use
    (aiosqlite is pinned in the lock, and every signing test goes through here). Whatever
    ran before on the connection must have closed its cursor (as _SQLite does): a statement
    left in progress would make the COMMIT fail, and the batch be refused."""
    await db._execute(fn, db._conn, *args)  # type: ignore[no-untyped-call]


def store_rows(
    conn: sqlite3.Connection,
    rows: list[tuple[Any, ...]],
    bumps: list[tuple[str, int, int]],
    take_turn: Callable[[], None],
    give_back_turn: Callable[[], None],
) -> None:
    """In the connection's thread: the writer turn, then one immediate transaction, rolled
    back if any part fails (a failed COMMIT, on a full disk, included). The turn is taken and
    given back here, rather than where the busy event loop next gets to it, so that it is
    held only while the transaction runs: another worker waited through those gaps (giving
    it back twice is harmless)."""
    take_turn()  # raises StoreError if another process holds it too long: nothing written
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_INSERT, rows)
            conn.executemany(_BUMP, bumps)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    finally:
        give_back_turn()
