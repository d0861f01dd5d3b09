"""count = rows: the signatures a service reports against the rows in its database."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from common import HarnessError
from servers import SLUG, Server, http_get

DEFAULT_OFFSET = 785


def rows_and_offset(database: Path) -> tuple[int, int]:
    """Signature rows that count (not held for review, not invalidated, where the schema has
    those flags), and the campaign's counter offset."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(signatures)")}
        counted = "".join(f" AND {flag} = 0" for flag in ("held", "invalid") if flag in columns)
        (rows,) = db.execute(
            f"SELECT count(*) FROM signatures WHERE campaign = ?{counted}", (SLUG,)
        ).fetchone()
        (config,) = db.execute("SELECT config FROM campaigns WHERE slug = ?", (SLUG,)).fetchone()
    finally:
        db.close()
    return rows, int(json.loads(config).get("counter_offset", DEFAULT_OFFSET))


def reported_count(server: Server) -> int:
    status, body = http_get(f"{server.base}/api/campaigns/{SLUG}")
    if status != 200:
        raise HarnessError(f"counter JSON answered {status}")
    return int(json.loads(body)["count"])


def check_count(server: Server, database: Path) -> tuple[bool, str]:
    """Rows in signatures against the count the service reports, once the writes settle."""
    rows, offset = rows_and_offset(database)
    for _ in range(50):
        time.sleep(0.1)
        again, offset = rows_and_offset(database)
        if again == rows:
            break
        rows = again
    count = reported_count(server)
    ok = count - offset == rows
    return ok, f"reported {count:,} - offset {offset} = {count - offset:,}; rows {rows:,}"
