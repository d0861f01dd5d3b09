"""Readers and signers through a PostgreSQL outage, measured: a cluster of this script's own
(tests/own_services.py) is stopped for 10 s, then frozen (SIGSTOP) for 60 s, under a steady
load (4 signers, 2 readers, each request after the last). Prints, for each phase, the answers
by status and the slowest answer, and how long after the database's return signing worked
again. Not a test: the numbers go to docs/faults.md.

    .venv/bin/python bench/faults.py [--outage 10] [--freeze 60]
"""

from __future__ import annotations

import argparse
import collections
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.own_services import own_postgres
from tests.test_database_faults import TIMEOUT, Signer, service

READER_PATHS = ("/c/belarus", "/c/belarus/embed", "/c/belarus/counter", "/api/campaigns/belarus")


class Load:
    """Signers and readers in threads; every answer noted with its phase and duration."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.phase = "before"
        self.stop = threading.Event()
        self.seen: list[tuple[str, str, int, float, float]] = []  # phase, kind, status, took, at
        self.lock = threading.Lock()

    def note(self, kind: str, status: int, began: float) -> None:
        with self.lock:
            self.seen.append((self.phase, kind, status, time.monotonic() - began, time.monotonic()))

    def signer(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            signer = Signer(client)
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    status = signer.sign().status_code
                except httpx.HTTPError:
                    status = 0
                self.note("sign", status, began)

    def reader(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            i = 0
            while not self.stop.is_set():
                began = time.monotonic()
                try:
                    status = client.get(READER_PATHS[i % len(READER_PATHS)]).status_code
                except httpx.HTTPError:
                    status = 0
                self.note("read", status, began)
                i += 1
                time.sleep(0.05)


def first_success_after(load: Load, moment: float) -> float | None:
    times = [at for _, kind, status, took, at in load.seen
             if kind == "sign" and status == 200 and at - took >= moment]  # fmt: skip
    return min(times) - moment if times else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outage", type=float, default=10)
    parser.add_argument("--freeze", type=float, default=60)
    args = parser.parse_args()
    with own_postgres() as pg, service(Path("/tmp"), pg.url) as client:
        load = Load(str(client.base_url))
        threads = [threading.Thread(target=load.signer) for _ in range(4)]
        threads += [threading.Thread(target=load.reader) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        load.phase = f"stopped {args.outage:.0f} s"
        pg.stop()
        time.sleep(args.outage)
        pg.start()
        back = time.monotonic()
        load.phase = "after the outage"
        time.sleep(5)
        load.phase = f"frozen {args.freeze:.0f} s"
        with pg.frozen():
            time.sleep(args.freeze)
        thawed = time.monotonic()
        load.phase = "after the freeze"
        time.sleep(5)
        load.stop.set()
        for thread in threads:
            thread.join()
    print(f"DB_TIMEOUT_SECONDS={TIMEOUT}")
    print(f"{'phase':<18} {'kind':<5} {'answers by status':<28} {'slowest':>8}")
    phases = list(dict.fromkeys(phase for phase, *_ in load.seen))
    for phase in phases:
        for kind in ("read", "sign"):
            rows = [
                (status, took) for p, k, status, took, _ in load.seen if p == phase and k == kind
            ]
            if not rows:
                continue
            counted = collections.Counter(status for status, _ in rows)
            by_status = ", ".join(f"{s}: {n}" for s, n in sorted(counted.items()))
            print(f"{phase:<18} {kind:<5} {by_status:<28} {max(t for _, t in rows):>7.2f}s")
    for name, moment in (("outage", back), ("freeze", thawed)):
        took = first_success_after(load, moment)
        print(f"first signature stored after the {name} ended: "
              + (f"{took:.2f} s" if took is not None else "none"))  # fmt: skip


if __name__ == "__main__":
    main()
