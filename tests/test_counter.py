"""The cached counter: this process's own signatures at once; other writers' within the
cache lifetime, never later; and never backwards from what was acknowledged."""

from __future__ import annotations

import asyncio

from widget.counter import Counter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_other_writers_show_within_the_lifetime_and_own_commits_at_once():
    stored = {"belarus": 10}
    reads = []

    async def read():
        reads.append(1)
        return dict(stored)

    clock = Clock()
    counter = Counter(read, lifetime=2.0, clock=clock)
    assert await counter.signatures("belarus") == 10
    stored["belarus"] = 15  # another instance commits five
    clock.now = 1.9
    assert await counter.signatures("belarus") == 10  # still within the lifetime
    counter.note("belarus", 1)  # this process commits one: counted at once
    stored["belarus"] = 16
    assert await counter.signatures("belarus") == 11
    clock.now = 2.0  # the lifetime is up: the next read sees everything
    assert await counter.signatures("belarus") == 16
    assert len(reads) == 2


async def test_a_commit_noted_during_a_read_is_never_lost():
    gate = asyncio.Event()

    async def slow_read():
        await gate.wait()
        return {"belarus": 10}  # read before the commit below

    clock = Clock()
    counter = Counter(slow_read, lifetime=1.0, clock=clock)
    refresh = asyncio.create_task(counter.refresh())
    await asyncio.sleep(0)
    counter.note("belarus", 11)  # committed while the read was under way
    gate.set()
    await refresh
    assert await counter.signatures("belarus") == 11


async def test_concurrent_requests_share_one_read():
    reads = []

    async def read():
        reads.append(1)
        await asyncio.sleep(0.01)
        return {"belarus": 1}

    counter = Counter(read, lifetime=5.0, clock=Clock())
    results = await asyncio.gather(*(counter.signatures("belarus") for _ in range(50)))
    assert results == [1] * 50
    assert len(reads) == 1
