"""Where the service's event loop spends its time, from py-spy's raw samples."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def summarise_profile(raw: Path, label: str, seconds: float, rate: int, top: int = 12) -> str:
    """Where the event loop's time goes, from py-spy's collapsed stacks (with line numbers).

    aiosqlite's threads are counted apart: one parked in its queue's get() is waiting, not
    working, even when py-spy cannot tell it is idle."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    loop = sqlite_busy = 0
    wait_line = _aiosqlite_wait_line()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if "(" in frame]
        if not frames:
            continue
        if "_connection_worker_thread" in stack:
            leaf = frames[-1]
            if leaf.startswith("_connection_worker_thread") and _line_of(leaf) == wait_line:
                continue
            sqlite_busy += count
            continue
        loop += count
        short = [_short(frame) for frame in frames]
        own[short[-1]] += count
        packages[_package(frames[-1])] += count
        for frame in set(short):
            if frame.endswith(".html)") or ("(widget/" in frame and not _entry(frame)):
                inclusive[frame] += count
    possible = max(1.0, seconds * rate)
    lines = [
        f"  profile of {label} ({raw}): event loop busy {loop / possible:.0%} of the time; "
        f"aiosqlite threads working {sqlite_busy / possible:.0%} of one core"
    ]
    if not loop:
        return lines[0]
    lines.append("    event loop, own time by package:")
    lines += [f"      {n / loop:6.1%}  {name}" for name, n in packages.most_common(top)]
    lines.append("    event loop, own time by function:")
    lines += [f"      {n / loop:6.1%}  {name}" for name, n in own.most_common(top)]
    lines.append("    event loop, widget code and templates including callees:")
    lines += [f"      {n / loop:6.1%}  {name}" for name, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


_ENTRY = ("(widget/cli/", "(widget/__main__.py)")


def _entry(frame: str) -> bool:
    """A frame of the command that starts the server, not of the server's own work."""
    return any(entry in frame for entry in _ENTRY)


def _aiosqlite_wait_line() -> int:
    """The line where aiosqlite's worker thread waits for work (`tx.get()`), or -1."""
    try:
        import inspect

        import aiosqlite.core

        lines, first = inspect.getsourcelines(aiosqlite.core._connection_worker_thread)
    except (ImportError, AttributeError, OSError):
        return -1
    for number, text in enumerate(lines, start=first):
        if ".get()" in text:
            return number
    return -1


def _line_of(frame: str) -> int:
    found = re.search(r":(\d+)\)$", frame)
    return int(found.group(1)) if found else -1


def _package(frame: str) -> str:
    where = _short(frame).rpartition(" (")[2].rstrip(")")
    if where.endswith(".html"):
        return "templates (compiled Jinja code)"
    if where.startswith("<frozen") or "/" not in where:
        return "stdlib"
    head = where.split("/", 1)[0]
    return "stdlib" if head.startswith("python3") else head


def _short(frame: str) -> str:
    """'render (jinja2/environment.py)' from py-spy's full path and line."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/lib/python3.", str(REPO) + "/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    where = re.sub(r":\d+$", "", where)
    if where.startswith(("11/", "12/", "13/", "14/")):
        where = where.split("/", 1)[1]
    return f"{name} ({where})"
