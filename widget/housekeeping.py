"""What the service does by itself, on every instance, with no cron job: it closes a campaign at
its `closes_at`, and purges the personal data of its signatures `purge_after_days` later
(widget/closing.py), each with its audit entry; and it deletes signatures whose confirmation
link expired unconfirmed (widget/confirmation.py). Readers are refused at the closing time itself
(Campaign.is_open); this marks the stored campaign closed so that the admin and the CLI agree."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from widget import campaigns, closing, confirmation
from widget.store import Audit, Store, StoreError

log = logging.getLogger(__name__)
INTERVAL = 30.0  # seconds between two rounds
ACTOR = "service"


class Housekeeping:
    def __init__(
        self,
        store: Store,
        changed: Callable[[], Awaitable[None]],
        interval: float | None = None,
        confirm_days: int = 7,
    ) -> None:
        self.store = store
        self.changed = changed  # the registry's reload, after a campaign was closed
        self.interval = INTERVAL if interval is None else interval
        self.confirm_days = confirm_days
        # (slug, purge time) whose purge found nothing left: not asked again by this process.
        # A signature in flight at the closing time is purged by the next round.
        self._purged: set[tuple[str, str]] = set()

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except StoreError as exc:
                log.warning("housekeeping waits for the database: %s", exc)
            except Exception:  # the loop must outlive any one round (a store closing under it)
                log.exception("a housekeeping round failed; the next one will try again")
            await asyncio.sleep(self.interval)

    async def round(self) -> None:
        stamp = closing.now()
        closed = False
        for campaign, _ in await self.store.campaigns():
            slug = campaign.slug
            due = campaign.closes_at and campaign.closes_at <= stamp
            if due and campaign.status == campaigns.OPEN:
                audit = Audit(ACTOR, "campaign.close", slug, f"closed at {campaign.closes_at}")
                if await self.store.close_at_closing_time(slug, stamp, audit):
                    log.info("closed campaign %r at its closing time", slug)
                    closed = True
            purge_at = campaign.purge_at
            if not purge_at or purge_at > stamp or (slug, purge_at) in self._purged:
                continue
            detail = f"{{n}} signature(s), {campaign.purge_after_days} day(s) after closing"
            purged = await self.store.purge(
                slug, stamp, Audit(ACTOR, "purge", slug, detail), quiet=True
            )
            if purged:
                log.info("purged the personal data of %d signature(s) of %r", purged, slug)
            else:
                self._purged.add((slug, purge_at))
        if closed:
            await self.changed()
        expired = await self.store.drop_unconfirmed(confirmation.not_before(self.confirm_days))
        if expired:
            log.info("deleted %d signature(s) whose confirmation link expired", expired)
