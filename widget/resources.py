"""Where the files that ship beside the code are: inside the package in a wheel, at the top
of the repository in a checkout (editable install)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource(name: str) -> Path:
    """The path of a shipped file or folder: `templates`, `embed.js`, `campaigns`."""
    for base in (_PACKAGE, _PACKAGE.parent):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} is missing from the installation ({_PACKAGE})")
