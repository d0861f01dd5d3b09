"""The benchmark's p50 and p99 of a row made of rounds are those of all its requests: each
round's latency curve (bench/lua/report.lua) weighted by its requests, not its worst round."""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path

import pytest

# bench/ is a folder of scripts, not a package: its results.py is loaded by path, so that
# its flat module names (results, load, common…) never shadow anything for other tests.
_spec = importlib.util.spec_from_file_location(
    "bench_results", Path(__file__).resolve().parents[1] / "bench" / "results.py"
)
assert _spec and _spec.loader
results = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # for dataclasses
_spec.loader.exec_module(results)
Result, merged_percentile = results.Result, results.merged_percentile

PERCENTS = [*range(1, 90), *(t / 10 for t in range(900, 1000)), 99.95, 99.99, 100]


def measured(latencies_us: list[float]) -> Result:
    """A round as wrk reports it: the smallest latency with `p` % of requests at or under it."""
    ordered = sorted(latencies_us)

    def at(p: float) -> float:
        return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]

    curve = tuple((float(p), at(p)) for p in PERCENTS)
    return Result("round", 64, len(ordered), 2.0, at(50) / 1000, at(99) / 1000, 0, 0, curve=curve)


def exact(rounds: list[list[float]], percent: float) -> float:
    every = sorted(x for r in rounds for x in r)
    return every[math.ceil(percent / 100 * len(every)) - 1] / 1000


def test_rounds_merge_into_the_percentiles_of_all_their_requests():
    rng = random.Random(7)
    # Four quiet rounds and one with a stall: its own p99 is far above the row's.
    rounds = [
        [rng.lognormvariate(10, 0.3) for _ in range(rng.randint(4000, 6000))] for _ in range(4)
    ]
    rounds.append([rng.lognormvariate(10, 0.3) for _ in range(4000)] + [90_000.0] * 80)
    runs = [measured(r) for r in rounds]
    for percent in (50, 99):
        assert merged_percentile(runs, percent) == pytest.approx(exact(rounds, percent), rel=0.01)
    assert max(r.p99_ms for r in runs) > 1.5 * merged_percentile(runs, 99)


def test_one_round_keeps_its_own_percentiles():
    run = measured([float(n) for n in range(1000, 11000)])
    assert merged_percentile([run], 99) == run.p99_ms
    assert merged_percentile([run], 50) == run.p50_ms
