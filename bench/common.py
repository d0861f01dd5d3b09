"""What the bench scripts share. They run as `python bench/NAME.py`, so this folder is on the
import path."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HarnessError(RuntimeError):
    """The benchmark could not be run; this, and only this, makes the exit status non-zero."""


async def made_live(database: str) -> None:
    """Make `database` (a path or URL no server has started on) with the shipped campaign
    counted live. The shipped campaign publishes its count hourly; the bench measures the
    live count (maintained on every commit, the more work) and checks it against the rows."""
    from dataclasses import replace

    from widget.app import load_default_campaign
    from widget.store import open_store

    store = open_store(database)
    await store.open()
    try:
        await load_default_campaign(store)
        ((campaign, _),) = await store.campaigns()
        await store.save_campaign(replace(campaign, count_every_hours=0))
    finally:
        await store.close()
