"""The heap of a serving process, kept out of the way of the requests.

A started app holds about 150,000 objects that live as long as the process (templates, the
catalogs, CLDR data, the campaigns). Python's full collections walked all of them again: under
signing load one came every ~1,100 signatures and stopped the event loop for up to 50 ms,
every reader waiting on it. Collected once and frozen (gc.freeze) when the start is done, the
full collections walk only what came after (bench/gc_pauses.py: 1.2-1.3 s of them in 20 s of
signing became about 40 ms, signing's p99 about 70 -> 40 ms).

The youngest generation is then collected after 7,000 new container objects rather than
Python's 700: a request frees nearly all it makes as soon as it is done, so with 64 requests in
flight 700 was reached many times a second for almost nothing to find (about 3 % of the time
of a signing load). Garbage in cycles still goes, after at most 7,000 such objects.

Where asked (PETITION_WIDGET_PIN_WORKERS), the process is also pinned to a CPU of its own
when it is wrapped, before its lifespan starts any thread (widget/cpus.py); the claim on the
CPU lives as long as this wrapper, that is as long as the server.

Only the processes that `serve` runs do this: a frozen object is never collected as garbage
(what is freed by its count still is), which a server pays for once, and a test process that
starts a thousand apps would pay for each."""

from __future__ import annotations

import gc
import socket

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from widget import cpus

YOUNGEST_THRESHOLD = 7000


class ServingHeap:
    """The app as `serve` runs it: once its lifespan has started, the heap is collected and
    frozen, and the youngest generation's threshold raised. Every other message passes
    through untouched. With `pin_cpu`, the process is pinned to a free CPU at once."""

    def __init__(self, app: ASGIApp, pin_cpu: bool = False) -> None:
        self.app = app
        self.pinned: tuple[int, socket.socket] | None = (
            cpus.pin_to_a_free_cpu() if pin_cpu else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def started(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()
                gc.freeze()
                gc.set_threshold(YOUNGEST_THRESHOLD, *gc.get_threshold()[1:])
            await send(message)

        await self.app(scope, receive, started)
