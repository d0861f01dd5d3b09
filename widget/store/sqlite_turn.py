"""The writer turn of an SQLite install whose processes (`serve --workers N`) share one
database: who commits next, decided by an flock beside the file."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import threading

from widget.store.types import StoreError


class WriterTurn:
    """The processes of one install (`serve --workers N`) take turns at writing, through an
    exclusive flock on an empty file beside the database (NAME.db-writer): a writer waiting
    for another process's commit starts the moment it ends, where SQLite's busy handler
    would sleep up to 100 ms at a time (the tail it gave two workers was over a second). The
    kernel releases the lock of a process that dies, kill -9 included. SQLite's own lock still
    guards every write (BEGIN IMMEDIATE): the turn only decides who goes next, so a turn given
    back at the wrong moment costs speed, never data."""

    def __init__(self, path: str) -> None:
        self.path = path + "-writer"
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    async def take(self, timeout: float) -> None:
        fd = self._file()
        with contextlib.suppress(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        waiting = _wait_for_lock(fd)
        try:
            await asyncio.wait_for(asyncio.shield(waiting), timeout)
        except TimeoutError:
            # The turn may still come after we stopped waiting: give it back at once.
            waiting.add_done_callback(self._give_back_if_taken)
            raise StoreError("another process held the database for too long") from None

    def take_here(self, timeout: float) -> None:
        """take(), in the thread that is about to write (the SQLite connection's, for a
        signing batch): a turn that comes wakes this thread directly, where take() wakes the
        event loop, which got to it 1-3 ms later under load while the other worker waited for
        the turn; a batch's transaction takes about 1.7 ms. Two workers signing against one
        (bench/run.py, in turns): 1.44 before, 1.64-1.70 after. A turn that comes after
        this gave up is given back at once, so a batch that was refused is never written."""
        fd = self._file()
        with contextlib.suppress(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        taken = threading.Event()
        guard = threading.Lock()
        gave_up = False
        failed: list[OSError] = []

        def wait() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                failed.append(exc)
            with guard, contextlib.suppress(OSError):  # the store may have closed since
                taken.set()
                if gave_up and not failed:
                    self.give_back()

        threading.Thread(target=wait, name="sqlite-turn", daemon=True).start()
        if not taken.wait(timeout):
            with guard:
                if not taken.is_set():
                    gave_up = True
                    raise StoreError("another process held the database for too long")
        if failed:
            raise failed[0]

    def _give_back_if_taken(self, done: asyncio.Future[None]) -> None:
        if not done.cancelled() and done.exception() is None:
            self.give_back()

    def give_back(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock too
            self._fd = None


def _wait_for_lock(fd: int) -> asyncio.Future[None]:
    """flock(LOCK_EX) in a daemon thread of its own: neither the threads the rest of the
    service uses nor the process's exit wait on a process that holds the lock too long."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def settle(error: OSError | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

    def wait() -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            error = None
        except OSError as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(settle, error)
        except RuntimeError:  # the loop is gone: nobody will use the turn
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)

    threading.Thread(target=wait, name="sqlite-turn", daemon=True).start()
    return future
