"""SQLite backend: WAL mode, one reading connection, and one writing connection that the
group-committing writer and every other write share in turn. The gateway
(widget/store/gateway.py) holds every query; this holds the connections and the schema."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite

from widget import files
from widget.sealing import SealedSignature
from widget.settings import SettingsError
from widget.store.backend import (
    Backend,
    Connection,
    apply_migrations,
    signature_row,
)
from widget.store.gateway import Store
from widget.store.sqlite_schema import MIGRATIONS
from widget.store.sqlite_thread import in_connection_thread, run_in_thread, store_rows
from widget.store.sqlite_turn import WriterTurn
from widget.store.types import StoreError

SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")  # never OFF: an acknowledged signature must stay
BUSY_SECONDS = 10.0
WAL_SIZE_LIMIT = 1024 * 1024

log = logging.getLogger(__name__)


class _SQLite(Connection):
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def execute(self, sql: str, *params: Any) -> int:
        try:
            cursor = await self.db.execute(sql, params)
            changed = cursor.rowcount
            await cursor.close()
            return changed
        except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's closed connection
            raise StoreError("the database refused a statement") from exc

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            await self.db.executemany(sql, rows)
        except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's closed connection
            raise StoreError("the database refused a statement") from exc

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            async with self.db.execute(sql, params) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError("the database refused a query") from exc


class SQLiteBackend(Backend):
    random_key = "randomblob(32)"

    def __init__(self, path: str, synchronous: str = "FULL", timeout: float = BUSY_SECONDS) -> None:
        # How long a statement waits for another process's lock (a command beside the
        # service) before it fails and the reader is told to try again.
        self.timeout = timeout
        if synchronous.upper() not in SYNCHRONOUS:
            raise SettingsError(
                f"PETITION_WIDGET_SQLITE_SYNCHRONOUS: must be one of {', '.join(SYNCHRONOUS)}"
            )
        self.path = path
        self.synchronous = synchronous.upper()
        self.reader: aiosqlite.Connection | None = None
        self.writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._turn = WriterTurn(path)

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None)
        pragmas = [
            f"PRAGMA busy_timeout = {int(self.timeout * 1000)}",
            "PRAGMA foreign_keys = ON",
            f"PRAGMA synchronous = {self.synchronous}",
            # Deleted and purged personal data is overwritten, not left in free pages.
            "PRAGMA secure_delete = ON",
            # After each checkpoint (SQLite's own, every 1,000 pages) the WAL file is cut
            # back to this size, so it never holds on to more disk than a moment's writes need.
            f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}",
        ]
        try:
            await run_in_thread(db, pragmas)
        except BaseException:
            await db.close()  # its thread would keep the process from exiting
            raise
        return db

    async def open(self) -> None:
        # aiosqlite's DEBUG log repeats every statement with its parameters: signer data.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        try:
            _owner_only(Path(self.path))
            self.writer = await self._connect()
            await self._initialise()
            self.reader = await self._connect()
        except (StoreError, OSError) as exc:
            await self.close()
            # SQLite's messages name no value ("file is not a database"); they say what is wrong.
            cause = exc.__cause__ if isinstance(exc.__cause__, sqlite3.Error) else None
            reason = str(cause) if cause else getattr(exc, "strerror", None) or str(exc)
            raise StoreError(f"cannot open the database {self.path}: {reason}") from exc

    async def close(self) -> None:
        for db in (self.reader, self.writer):
            if db is not None:
                await db.close()
        self.reader = self.writer = None
        self._turn.close()

    async def ping(self) -> None:
        async with self.read() as db:
            await db.fetch("SELECT 1")

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        if self.reader is None:
            raise StoreError("the store is not open")
        yield _SQLite(self.reader)

    def _open_writer(self) -> aiosqlite.Connection:
        if self.writer is None:
            raise StoreError("the store is not open")
        return self.writer

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writing connection, this process's and this install's turn to write."""
        db = self._open_writer()
        async with self._write_lock:
            try:
                await self._turn.take(self.timeout)
            except OSError as exc:  # the lock file cannot be made (a read-only folder)
                raise StoreError("the database cannot be written") from exc
            try:
                yield db
            finally:
                self._turn.give_back()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """The writing connection inside one immediate transaction, one writer at a time."""
        async with self._writing() as db:
            tx = _SQLite(db)
            await tx.execute("BEGIN IMMEDIATE")
            try:
                yield tx
                await tx.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk) leaves the transaction open: end it too.
                with contextlib.suppress(Exception):
                    await db.rollback()
                raise

    async def insert_signatures(
        self, batch: list[SealedSignature], counted: dict[str, int], shard: int
    ) -> None:
        rows = [signature_row(s) for s in batch]
        # Every campaign of the batch writes its count row, even with 0 (a batch held for
        # review): every commit then syncs to disk alike.
        bumps = [(slug, shard, n) for slug, n in counted.items()]
        db = self._open_writer()
        take_turn = functools.partial(self._turn.take_here, self.timeout)
        async with self._write_lock:  # the turn itself is taken in the connection's thread
            try:
                await in_connection_thread(
                    db, store_rows, rows, bumps, take_turn, self._turn.give_back
                )
            except (sqlite3.Error, ValueError) as exc:
                raise StoreError("the database refused a query") from exc
            except OSError as exc:  # the lock file cannot be made (a read-only folder)
                raise StoreError("the database cannot be written") from exc

    async def _initialise(self) -> None:
        """WAL mode, then the migrations. Processes opening a new file together can find it
        locked where SQLite's busy handler will not wait (it refuses when waiting could
        deadlock), so this tries again for as long as the busy timeout."""
        assert self.writer is not None
        deadline = time.monotonic() + self.timeout
        delay = 0.01
        while True:
            try:
                async with self.writer.execute("PRAGMA journal_mode = WAL") as cursor:
                    row = await cursor.fetchone()
                if row is None or str(row[0]).lower() != "wal":  # another connection held it
                    raise sqlite3.OperationalError("database is locked")
                await self._migrate()
                return
            except StoreError as exc:
                if not isinstance(exc.__cause__, sqlite3.OperationalError):
                    raise
                error: sqlite3.Error = exc.__cause__
            except sqlite3.OperationalError as exc:
                error = exc
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise StoreError("the database could not be opened") from error
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _migrate(self) -> None:
        async with self.transaction() as tx:
            await apply_migrations(tx, MIGRATIONS, _run_statements)

    async def compact(self) -> None:
        """Rewrite the file so no page keeps an old copy of what was sealed or purged. The
        last checkpoint copies the rewritten pages over the old ones; it waits (up to the busy
        timeout) for readers still on an older snapshot, and if one outlasts that, the old
        pages stay in the file until a checkpoint after that reader has ended: said in the log."""
        async with self._write_lock:
            assert self.writer is not None
            for statement in (
                "PRAGMA wal_checkpoint(TRUNCATE)",
                "VACUUM",
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ):
                # Read to the end, or VACUUM waits.
                ((busy, *_),) = await _SQLite(self.writer).fetch(statement) or [(0,)]
            if busy:
                log.warning(
                    "a reader open since before the compaction kept old pages in the database "
                    "file; they are overwritten by the first checkpoint after it ends"
                )

    async def copy_to(self, target: str) -> int:
        """VACUUM INTO: one read snapshot, so the running service goes on writing, and a file
        with no free page, in the rollback journal mode (one file, no -wal beside it)."""
        if self.reader is None:
            raise StoreError("the store is not open")
        try:
            async with self.reader.execute("VACUUM INTO ?", (target,)):
                pass
            return await asyncio.to_thread(_checked_copy, target)
        except sqlite3.Error as exc:
            raise StoreError(f"the copy failed: {exc}") from exc


def _checked_copy(path: str) -> int:
    copy = sqlite3.connect(path)
    try:
        copy.execute("PRAGMA journal_mode = DELETE")
        ((verdict,),) = copy.execute("PRAGMA integrity_check").fetchall()
        if verdict != "ok":
            raise StoreError(f"the copy failed its integrity check: {verdict}")
        return int(copy.execute("SELECT count(*) FROM signatures").fetchone()[0])
    finally:
        copy.close()


async def _run_statements(tx: Connection, pending: list[tuple[int, str]]) -> None:
    """Every pending migration's statements in one trip to the connection's thread."""
    assert isinstance(tx, _SQLite)
    scripts = [script for _, script in pending]
    await run_in_thread(tx.db, [s for script in scripts for s in script.split(";") if s.strip()])


class SQLiteStore(Store):
    """The gateway on a SQLite file."""

    def __init__(self, path: str, synchronous: str = "FULL", timeout: float = BUSY_SECONDS) -> None:
        self.sqlite = SQLiteBackend(path, synchronous, timeout)
        super().__init__(self.sqlite, "sqlite")
        self.path = path

    @property
    def _writer(self) -> aiosqlite.Connection | None:
        """The writing connection (tests set PRAGMAs on it to make writes fail)."""
        return self.sqlite.writer


SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def _owner_only(path: Path) -> None:
    """The database file made owner-only before SQLite opens it, whatever the umask. SQLite
    gives its -wal and -shm files the database's own mode; files from before are tightened.
    A file that is not a SQLite database (a wrong path) is refused first, and left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as existing:
        head = existing.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER:
            raise StoreError("it is not a SQLite database; nothing was changed")
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, files.FILE_MODE))
    for suffix in ("", "-wal", "-shm", "-journal"):
        files.tighten(path.with_name(path.name + suffix))
