"""The campaigns a running service knows (and the origins its partners embed from), kept in
memory and reloaded when the store says one changed (by the CLI, the admin or another
instance)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from widget.campaigns import Campaign
from widget.partners import Partner
from widget.store import Store, StoreError

log = logging.getLogger(__name__)


class CampaignRegistry:
    def __init__(
        self, store: Store, check_every: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._check_every = check_every
        self._clock = clock
        self._campaigns: dict[str, Campaign] = {}
        self.partners: dict[str, Partner] = {}
        self.partner_origins: tuple[str, ...] = ()
        self._revision: str | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()
        self._checking: asyncio.Future[None] | None = None
        # Called after campaigns or partners were read anew (what was built from them is stale).
        self.reloaded: list[Callable[[], None]] = []

    async def get(self, slug: str) -> Campaign | None:
        if self._clock() - self._checked_at >= self._check_every:
            # Requests that find the check due share one check, and all resume together.
            if self._checking is None:
                self._checking = asyncio.ensure_future(self.reload())
                self._checking.add_done_callback(self._check_done)
            await asyncio.shield(self._checking)
        return self._campaigns.get(slug)

    def known(self) -> list[Campaign]:
        """The campaigns as last read, without asking the store."""
        return list(self._campaigns.values())

    def _check_done(self, _: asyncio.Future[None]) -> None:
        self._checking = None

    async def reload(self, force: bool = False) -> None:
        async with self._lock:
            if not force and self._clock() - self._checked_at < self._check_every:
                return
            try:
                revision = await self._store.campaigns_revision()
                if force or revision != self._revision:
                    loaded = {c.slug: c for c, _ in await self._store.campaigns()}
                    partners = {p.code: p for p in await self._store.partners()}
            except StoreError:
                if self._revision is None:
                    raise  # nothing known yet: the service cannot start without its campaigns
                # Readers keep reading what this process knows; try again after a while.
                log.warning("the campaigns could not be read; serving the last ones known")
                self._checked_at = self._clock()
                return
            if force or revision != self._revision:
                self._campaigns = loaded
                self.partners = partners
                origins = (o for p in self.partners.values() for o in p.origins)
                self.partner_origins = tuple(dict.fromkeys(origins))
                self._revision = revision
                for listener in self.reloaded:
                    listener()
            self._checked_at = self._clock()
