"""The live count: signatures maintained by the store plus the operator's offset. Counts are
kept in memory, refreshed from the store after a short lifetime, and bumped at once by the
signatures this process commits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache

from widget import i18n
from widget.store.types import StoreError

log = logging.getLogger(__name__)


class Counter:
    def __init__(
        self,
        read_counts: Callable[[], Awaitable[dict[str, int]]],
        lifetime: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_counts = read_counts
        self.lifetime = lifetime
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._read_at = float("-inf")
        self._reading: asyncio.Future[None] | None = None
        self._noted_during_read: set[str] = set()

    def note(self, slug: str, added: int) -> None:
        """This process committed `added` signatures: count them now."""
        self._counts[slug] = self._counts.get(slug, 0) + added
        self._noted_during_read.add(slug)

    async def signatures(self, slug: str) -> int:
        """Signatures for a campaign, at most `lifetime` seconds behind other writers."""
        if self._clock() - self._read_at >= self.lifetime:
            await self.refresh()
        return self._counts.get(slug, 0)

    async def refresh(self) -> None:
        """Read the counts again. Requests that find them stale together share one read and
        all resume when it ends (a lock would let them through one per loop pass)."""
        if self._reading is None:
            self._noted_during_read = set()
            self._reading = asyncio.ensure_future(self._read(self._clock()))
            self._reading.add_done_callback(self._read_done)
        await asyncio.shield(self._reading)

    def _read_done(self, _: asyncio.Future[None]) -> None:
        self._reading = None

    async def _read(self, started: float) -> None:
        try:
            counts = await self._read_counts()
        except StoreError:
            # The database does not answer: keep serving what this process knows, and try
            # again after a lifetime rather than on every request.
            log.warning("the counts could not be read; serving the last ones known")
            self._read_at = started
            return
        for slug, count in counts.items():
            # A commit noted while the read ran may be missing from what was read; never fall
            # behind what this process has already acknowledged.
            if slug in self._noted_during_read:
                count = max(count, self._counts.get(slug, 0))
            self._counts[slug] = count
        for slug in set(self._counts) - set(counts):
            del self._counts[slug]
        self._read_at = started


def shown(count: int, minimum: int) -> bool:
    """Whether a count is shown at all: from the campaign's minimum on, and never 0."""
    return count >= max(minimum, 1)


def headline(count: int, minimum: int, language: str) -> str:
    """What the counter says: the count, or below the campaign's minimum (and at 0) an
    invitation rather than a small number."""
    if not shown(count, minimum):
        return i18n.translations(language).gettext("Be one of the first to sign")
    return sentence(count, language)


@lru_cache(maxsize=4096)
def goal_text(count: int, goal: int | None, minimum: int, language: str) -> str:
    """ "212 more to reach 1,000", "Goal of 1,000 reached", or "" (no goal, or a count too
    small to show, which the bar would give away)."""
    if not goal or not shown(count, minimum):
        return ""
    texts = i18n.translations(language)
    number = i18n.format_number
    if count >= goal:
        return texts.gettext("Goal of %(goal)s reached") % {"goal": number(goal, language)}
    # Translators: under the progress bar; %(num)s signatures are still missing.
    text = texts.ngettext(
        "%(num)s more to reach %(goal)s", "%(num)s more to reach %(goal)s", goal - count
    )
    return text % {"num": number(goal - count, language), "goal": number(goal, language)}


@lru_cache(maxsize=4096)
def sentence(count: int, language: str) -> str:
    """ "785 people have taken action", in the reader's language and number format."""
    # Translators: the live count shown on every petition; %(num)s is the formatted number.
    text = i18n.translations(language).ngettext(
        "%(num)s person has taken action", "%(num)s people have taken action", count
    )
    return text % {"num": i18n.format_number(count, language)}
