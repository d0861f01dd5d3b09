"""What every command shares: the store it opens, who it acts as, where it writes, and the
error that ends it with a message."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import IO

from widget import files, keychecks
from widget.settings import ENV_PREFIX, Settings
from widget.store import Store, open_store


class CommandError(Exception):
    """A command cannot do what was asked; the message says why."""


def database_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--database",
        help=f"a SQLite file or a postgresql:// URL (env {ENV_PREFIX}DATABASE; "
        "default ./petition-widget.db)",
    )
    return parser


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    store = open_store(
        settings.database, pool_size=settings.db_pool_size, timeout=settings.db_timeout_seconds
    )
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def keyed_store(settings: Settings) -> AsyncIterator[tuple[Store, Settings]]:
    """The store, and the settings resolved against it (widget/keychecks.py): for a command
    that looks stored hashes up with the secret key or the domain key."""
    async with opened_store(settings) as store:
        yield store, await keychecks.resolved(store, settings)


def actor() -> str:
    return f"cli:{getpass.getuser()}"


@contextlib.contextmanager
def output(path: str | None) -> Iterator[IO[bytes]]:
    if not path:
        yield sys.stdout.buffer
        return
    # Written beside it and put in its place once whole: a command that fails half-way
    # (a row no key given opens) leaves neither a partial file nor a lost older one.
    partial = f"{path}.partial"
    try:
        handle = files.open_private(partial)  # exports hold signers' data: owner-only
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with handle:
            yield handle
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    print(f"wrote {path}", file=sys.stderr)


def write_text(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def configure_logging() -> None:
    """The service's own lines (`LEVEL name: message`, INFO and above) on stderr, in the
    command's process and in every worker `serve` starts, which begins with no logging set
    up (there, INFO lines were dropped and warnings printed without their level)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
