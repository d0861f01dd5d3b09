"""Files that hold signers' data or keys: created owner-only (0600) and their folders 0700,
whatever the process umask, and tightened when they already exist."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import IO, TYPE_CHECKING

from widget.settings import KEY_MIN_LENGTH, database_file

if TYPE_CHECKING:
    from widget.settings import Settings

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Make the folder (and its parents) if missing, and make it owner-only."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(path, FOLDER_MODE)
    return path


def create_exclusive(path: Path, text: str) -> None:
    """Write a new owner-only file; never over an existing one (FileExistsError)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def open_private(path: str | Path) -> IO[bytes]:
    """An owner-only file for writing, truncated; an existing file is made owner-only first,
    so an export written over an old one is never readable by others, even for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    os.ftruncate(fd, 0)
    return os.fdopen(fd, "wb")


def tighten(path: Path) -> None:
    """Make an existing file owner-only (nothing if it is missing)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, FILE_MODE)


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def read_or_create_secret(path: Path) -> str:
    """A secret key file's key; on first run, a new key written owner-only in an owner-only
    folder. ValueError if the file holds less than a key."""
    key = secrets.token_urlsafe(48)
    try:
        if not path.exists():
            private_folder(path.parent)
        create_exclusive(path, key + "\n")
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < KEY_MIN_LENGTH:
            raise ValueError(f"{path}: the secret key file is empty or too short") from None
    return key


def key_file(settings: Settings, name: str) -> Path:
    """A key file of an install that made its own keys: in the keys folder, or where an older
    install made it (beside the database), which keeps working until it is moved."""
    path = settings.key_folder / name
    legacy = legacy_key_file(settings.database, name)
    return legacy if legacy.exists() and not path.exists() else path


def legacy_key_file(database: str, name: str) -> Path:
    """Where installs before the keys folder made a key: loose beside the database NAME.db,
    as NAME.<name>."""
    db = database_file(database)
    return db.with_name(db.name.removesuffix(".db") + "." + name)
