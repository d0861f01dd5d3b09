"""The count readers see: signatures maintained by the store plus the operator's offset. Live
counts are kept in memory, refreshed from the store after a short lifetime, and bumped at once by
the signatures this process commits. A campaign with `count_every_hours` shows instead the count
as it was at the start of each period, published once for every instance (Store.published_count):
a site that knows its visitors sees the count move once a period, by everyone who signed in it,
and never by one at the moment a visitor of its own was there."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache

from widget import i18n
from widget.campaigns import Campaign
from widget.closing import STAMP
from widget.store.types import StoreError

log = logging.getLogger(__name__)


HOUR = 3600


def step_of(moment: float, hours: int) -> int:
    """The start of the period of `hours` that `moment` falls in, in seconds since the epoch:
    periods start at whole hours of UTC, the same on every instance."""
    period = hours * HOUR
    return int(moment // period) * period


class Counter:
    def __init__(
        self,
        read_counts: Callable[[], Awaitable[dict[str, int]]],
        lifetime: float,
        clock: Callable[[], float] = time.monotonic,
        read_published: Callable[[str, int], Awaitable[int]] | None = None,
    ) -> None:
        self._read_counts = read_counts
        self._read_published = read_published
        self.lifetime = lifetime
        self._clock = clock
        # The time of day, which says what period it is (tests set it).
        self.wall: Callable[[], float] = time.time
        self._counts: dict[str, int] = {}
        self._read_at = float("-inf")
        self._reading: asyncio.Future[None] | None = None
        self._noted_during_read: set[str] = set()
        # Per campaign: the step its published count is of, and that count.
        self._published: dict[str, tuple[int, int]] = {}
        self._publishing: dict[str, asyncio.Future[None]] = {}
        self._retry_at: dict[str, float] = {}

    async def public(self, campaign: Campaign) -> int:
        """What readers see of a campaign's count, offset included: live, or as published at
        the start of its current period."""
        if not campaign.count_every_hours:
            return campaign.counter_offset + await self.signatures(campaign.slug)
        await self._catch_up(campaign, self.wall())
        published = self._published.get(campaign.slug)
        return campaign.counter_offset + (published[1] if published else 0)

    async def _catch_up(self, campaign: Campaign, now: float) -> int:
        """Learn the count of the campaign's period at `now` unless it is known; that period."""
        step = step_of(now, campaign.count_every_hours)
        if self.published_step(campaign.slug) < step:
            await self.publish(campaign.slug, step)
        return step

    def period_start(self, campaign: Campaign) -> str | None:
        """The start of a stepped campaign's current period, written as the store writes times:
        what operators' figures stop at, so that a stolen session learns no more than the
        public count. None for a live campaign."""
        if not campaign.count_every_hours:
            return None
        start = step_of(self.wall(), campaign.count_every_hours)
        return datetime.fromtimestamp(start, UTC).strftime(STAMP)

    async def publish(self, slug: str, step: int) -> None:
        """Learn the count published for `step`, taking it if no instance has yet. Requests
        that ask together share one query; while the database does not answer, the count last
        published stays, and it is asked again after a lifetime rather than on every request."""
        if self._clock() < self._retry_at.get(slug, float("-inf")):
            return
        if slug not in self._publishing:
            reading = asyncio.ensure_future(self._publish(slug, step))
            self._publishing[slug] = reading
            reading.add_done_callback(lambda _: self._publishing.pop(slug, None))
        await asyncio.shield(self._publishing[slug])

    async def _publish(self, slug: str, step: int) -> None:
        if self._read_published is None:
            raise RuntimeError("this counter was made without published counts")
        try:
            n = await self._read_published(slug, step)
        except StoreError:
            log.warning("the published count could not be read; serving the last one known")
            self._retry_at[slug] = self._clock() + self.lifetime
            return
        self._retry_at.pop(slug, None)
        self._published[slug] = (step, n)

    async def publish_on_time(self, campaigns: Callable[[], Iterable[Campaign]]) -> None:
        """Run on every instance: publish each stepped campaign's count as its period starts.
        The moment a count is taken is then the period's, not a reader's: were it taken when
        the first reader asks, a site that is a campaign's only reader could ask late in one
        period and again as the next begins, and read two counts moments apart."""
        while True:
            wait = 60.0  # and look again for campaigns whose setting changed
            try:
                now = self.wall()
                for campaign in campaigns():
                    hours = campaign.count_every_hours
                    if not hours:
                        continue
                    step = await self._catch_up(campaign, now)
                    missed = self.published_step(campaign.slug) < step
                    wait = min(wait, self.lifetime if missed else step + hours * HOUR - now)
            except Exception:  # the loop must outlive any one round (a store closing under it)
                log.exception("publishing the counts failed; the next round will try again")
            await asyncio.sleep(max(wait, 0.01))

    def published_step(self, slug: str) -> float:
        published = self._published.get(slug)
        return published[0] if published else float("-inf")

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
