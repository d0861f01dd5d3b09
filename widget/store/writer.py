"""The group-committing writer both backends share: requests queue their signatures, one task
per process takes every signature waiting and stores them in one transaction, and each request
is answered only after that commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from widget.sealing import SealedSignature
from widget.store.types import StoreError

log = logging.getLogger(__name__)

MAX_BATCH = 256

# Stores one batch in one transaction; returns the signatures counted per campaign (held ones
# and duplicates are stored or turned away, and not counted). Raises if nothing was stored.
StoreBatch = Callable[[list[SealedSignature]], Awaitable[dict[str, int]]]
_Pending = tuple[SealedSignature, "asyncio.Future[None]"]


class GroupWriter:
    def __init__(
        self,
        store_batch: StoreBatch,
        committed: Callable[[dict[str, int]], None],
        name: str,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._store_batch = store_batch
        self._committed = committed
        self._name = name
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # Whether the last batch failed (a full disk, a read-only file): not ready to sign.
        self.failing = False

    def start(self) -> None:
        self._queue = asyncio.Queue()  # bound to the running loop, after a close and reopen
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        """Store what is queued, then end the task."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None

    async def submit(self, signature: SealedSignature) -> None:
        if self._task is None or self._task.done():
            raise StoreError("the store is not accepting signatures")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((signature, done))
        await done

    async def _loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self._max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    await self._commit(batch)
                    return
                batch.append(nxt)
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        """All of the batch is committed, or none of it is; every request gets its answer."""
        try:
            added = await self._store_batch([signature for signature, _ in batch])
        except Exception as exc:
            # The exception's class only: a driver's message may quote a failing row.
            log.error("a batch of %d signatures was not stored: %s", len(batch), _describe(exc))
            self.failing = True
            for _, done in batch:
                if not done.done():
                    done.set_exception(StoreError("the signature was not stored"))
            return
        self.failing = False
        # Counted before anyone is answered, so a reader's count includes their signature.
        self._committed(added)
        for _, done in batch:
            if not done.done():
                done.set_result(None)


def _describe(exc: BaseException) -> str:
    """The driver's error class and code, never its message (it may quote a row)."""
    if isinstance(exc, StoreError) and exc.__cause__ is not None:
        exc = exc.__cause__
    code = getattr(exc, "sqlstate", None) or getattr(exc, "sqlite_errorname", None)
    return f"{type(exc).__module__}.{type(exc).__qualname__}" + (f" ({code})" if code else "")
