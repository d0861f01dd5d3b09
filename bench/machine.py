"""How busy the machine is, before and during a run."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _proc_stat() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    total = sum(fields)
    idle = fields[3] + fields[4]  # idle + iowait
    return (total - idle) / ticks, total / ticks


def cpu_busy(seconds: float = 1.0) -> float | None:
    """The share of all CPUs busy over `seconds`; None where /proc/stat is missing."""
    try:
        busy0, total0 = _proc_stat()
        time.sleep(seconds)
        busy1, total1 = _proc_stat()
    except (OSError, ValueError, IndexError):
        return None
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else None


class OtherLoad:
    """How much CPU processes other than this harness and its children (the servers, wrk) used
    while it ran: the machine's busy time less ours, as a share of all CPUs."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            busy, total = _proc_stat()
        except (OSError, ValueError, IndexError):
            return None
        t = os.times()
        return busy, total, t.user + t.system + t.children_user + t.children_system

    def share(self) -> float | None:
        end = self._sample()
        if self.start is None or end is None or end[1] <= self.start[1]:
            return None
        busy, total, ours = (b - a for a, b in zip(self.start, end, strict=True))
        return max(0.0, busy - ours) / total
