"""How busy the machine is, before and during a run."""

from __future__ import annotations

import os
import subprocess
import sys
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


# A fixed amount of pure Python work, timed in a process pinned to one CPU: on a virtual
# machine whose host is busy, the same loop takes longer, though no process here is busy.
_LOOP = """
import time
best = float("inf")
for _ in range(3):
    began = time.perf_counter()
    total = 0
    for i in range(400_000):
        total += i
    best = min(best, time.perf_counter() - began)
print(best * 1000)
"""


def loop_ms(cpu: str) -> float | None:
    """How long the fixed loop takes on `cpu` now, in ms (the best of three); None if it
    cannot be run."""
    cmd = ["taskset", "-c", cpu.split(",")[0], sys.executable, "-c", _LOOP]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30)
        return float(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
