"""The storage gateway. Views and domain code call `Store` (widget/store/gateway.py) and never
see SQL; a backend (SQLite for one process, PostgreSQL for several instances) supplies the
connections and the schema."""

from __future__ import annotations

from widget.store.gateway import Store
from widget.store.types import (
    WITHDRAWAL,
    AddedListener,
    AdminSession,
    Audit,
    AuditEntry,
    SignatureRow,
    Stats,
    StoreError,
)

__all__ = [
    "WITHDRAWAL", "AddedListener", "AdminSession", "Audit", "AuditEntry", "SignatureRow", "Stats",
    "Store", "StoreError", "open_store",
]  # fmt: skip


def open_store(
    database: str, synchronous: str = "FULL", pool_size: int = 5, timeout: float = 10.0
) -> Store:
    """The backend for a database setting: postgresql://… or postgres://… is PostgreSQL (with
    `pool_size` connections at most); a path or sqlite:///path is SQLite. `timeout` bounds
    every wait on the database, in seconds."""
    from widget.settings import database_file, is_postgres

    if is_postgres(database):
        from widget.store.postgres import PostgresStore

        return PostgresStore(database, pool_size=pool_size, timeout=timeout)
    from widget.store.sqlite import SQLiteStore

    return SQLiteStore(str(database_file(database)), synchronous=synchronous, timeout=timeout)
