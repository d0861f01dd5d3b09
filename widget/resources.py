"""Where the files that ship beside the code are: inside the package in a wheel, at the top
of the repository in a checkout (editable install)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource(name: str) -> Path:
    """The path of a shipped file or folder: `templates`, `embed.js`, `campaigns`."""
    for base in (_PACKAGE, _PACKAGE.parent):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} is missing from the installation ({_PACKAGE})")


@cache
def static_digest(name: str) -> str:
    """A short digest of a static file's content, for its URL: a new release, a new URL."""
    return hashlib.blake2b((resource("static") / name).read_bytes(), digest_size=6).hexdigest()
