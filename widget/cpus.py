"""A CPU of its own for each process `serve` runs (PETITION_WIDGET_PIN_WORKERS, uvicorn).

A worker is an event loop and a SQLite writing thread that hand Python's lock to each other
many times a signature. Left to the kernel, the two threads often run on different cores,
where each hand-over waits for the other core, and two workers' threads interleave on both.
Pinned, a worker's threads share one core and workers do not meet: signing measured about
15 % faster, with one worker as with two (`bench/run.py`, docs/benchmarks.md). Off by
default: a worker pinned to a core that something else keeps busy cannot move away from it.

Workers claim CPUs among themselves, with no file: a worker binds an abstract Unix socket
named after its parent process (the `serve` that started them all) and the CPU, and the first
to bind it has that CPU. The kernel drops the name when the worker dies, so the worker that
replaces it claims the same CPU."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def pin_to_a_free_cpu() -> tuple[int, socket.socket] | None:
    """Pin this process's threads, this one and any it starts later, to the first CPU no
    sibling worker holds; returns that CPU and the claim, which must stay open as long as the
    worker lives. None where there is nothing to choose: one CPU allowed, every CPU already
    held (more workers than CPUs), or no CPU affinity on this system."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    for cpu in cpus:
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0petition-widget-{os.getppid()}-cpu-{cpu}")
        except OSError:  # a sibling holds it
            claim.close()
            continue
        os.sched_setaffinity(0, {cpu})
        log.info("process %d pinned to CPU %d", os.getpid(), cpu)
        return cpu, claim
    log.info("process %d not pinned: every CPU it may use has a worker", os.getpid())
    return None
