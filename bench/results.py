"""wrk's results, compared with a reference and laid out as the one table bench/run.py
prints."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

STEADY = 0.10  # the spread of the fixed loop's times above which ratios between rows mislead


@dataclass(frozen=True)
class Result:
    label: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int
    peak_mb: float = 0.0  # the server's peak resident memory during the run (all processes)
    loop_ms: float = 0.0  # machine.loop_ms on the server's CPU around the run (the slower)
    # (percentile, latency in µs) from lua/report.lua, for merging rounds (merged_percentile)
    curve: tuple[tuple[float, float], ...] = ()
    rounds_p99_ms: tuple[float, ...] = ()  # each round's own p99, for a row made of rounds

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors


def merged_percentile(runs: Sequence[Result], percent: float) -> float:
    """The latency (ms) under which `percent` of all the runs' requests fell, from each run's
    curve weighted by its requests: the p99 of a row, not of its worst round. Between two
    points of a curve the share is interpolated; the answer is one of the curves' latencies."""
    total = sum(r.requests for r in runs)
    latencies = [[v for _, v in run.curve] for run in runs]

    def share_under(latency: float) -> float:
        under = 0.0
        for run, values in zip(runs, latencies, strict=True):
            i = bisect.bisect_right(values, latency)
            if i == len(values):
                under += run.requests
            elif i > 0:
                (p0, v0), (p1, v1) = run.curve[i - 1], run.curve[i]
                share = p0 + (p1 - p0) * (latency - v0) / (v1 - v0) if v1 > v0 else p0
                under += run.requests * share / 100
        return under / total if total else 1.0

    for latency in sorted({v for values in latencies for v in values}):
        if share_under(latency) >= percent / 100:
            return latency / 1000
    return 0.0


@dataclass(frozen=True)
class Row:
    result: Result | None
    versus: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""
    note: str = ""


def compare(
    result: Result,
    reference: Result,
    versus: str,
    min_ratio: float,
    *,
    p99_factor: float | None = None,
    p99_max_ms: float | None = None,
    zero_errors: bool = False,
) -> Row:
    """A row with the req/s ratio against a reference and whether the issue's target is met."""
    ratio = result.rps / reference.rps if reference.rps else 0.0
    ok = ratio >= min_ratio
    shown = [f"{ratio:.2f}"]
    target = [f"≥{min_ratio:.2f}"]
    if p99_factor is not None:
        p99_ratio = result.p99_ms / reference.p99_ms if reference.p99_ms else float("inf")
        ok = ok and p99_ratio <= p99_factor
        shown.append(f"p99 {p99_ratio:.2f}x")
        target.append(f"p99 ≤{p99_factor:g}x")
    if p99_max_ms is not None:
        ok = ok and result.p99_ms <= p99_max_ms
        target.append(f"p99 ≤{p99_max_ms:g} ms")
    if zero_errors:
        ok = ok and result.errors == 0
        target.append("0 errors")
    return Row(result, versus, ", ".join(shown), ", ".join(target), "yes" if ok else "NO")


def table(rows: Sequence[Row]) -> str:
    head = (
        "path", "conns", "req/s", "p50 ms", "p99 ms", "errors", "peak MB", "CPU 0", "vs",
        "ratio", "target", "met",
    )  # fmt: skip
    fastest = min((r.result.loop_ms for r in rows if r.result and r.result.loop_ms), default=0)
    lines = [head]
    for row in rows:
        r = row.result
        if r is None:
            lines.append(
                (row.note, "", "", "", "", "", "", "", row.versus, row.ratio, row.target, "n/a")
            )
            continue
        lines.append(
            (
                r.label,
                str(r.connections),
                f"{r.rps:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                str(r.errors),
                f"{r.peak_mb:.0f}" if r.peak_mb else "",
                f"{fastest / r.loop_ms:.2f}" if r.loop_ms else "",
                row.versus,
                row.ratio,
                row.target,
                row.met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    numeric = {1, 2, 3, 4, 5, 6, 7}

    def fmt(line: Sequence[str]) -> str:
        cells = (
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        return "| " + " | ".join(cells) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if i in numeric else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return "\n".join([fmt(lines[0]), rule + "|", *(fmt(line) for line in lines[1:])])


def steadiness(rows: Sequence[Row]) -> str | None:
    """How much the server CPU's speed varied over the run, as the fixed loop measured it
    around each row; None when it was not measured."""
    times = [r.result.loop_ms for r in rows if r.result and r.result.loop_ms]
    if not times:
        return None
    spread = max(times) / min(times) - 1
    line = (
        f"CPU 0's speed (the 'CPU 0' column: a fixed loop timed just before and after each row, "
        f"the fastest = 1.00) varied by {spread:.0%} over the run ({min(times):.1f}-"
        f"{max(times):.1f} ms)"
    )
    if spread > STEADY:
        line += (
            "\nwarning: the host gave this machine's CPU unevenly (no process here was busy). "
            "The pairs measured in turns (each path and its reference, 1 and 2 workers, FULL "
            "and NORMAL) share the unevenness; Granian against uvicorn, measured apart, and any "
            "other two rows whose 'CPU 0' differ, are off by about as much"
        )
    return line
