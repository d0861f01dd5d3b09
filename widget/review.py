"""Holding signatures for review, releasing them, invalidating floods, and purging personal
data once a campaign is over: the rules shared by the admin and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from widget import signing
from widget.campaigns import Campaign
from widget.closing import STAMP
from widget.store import Audit, Store


class ReviewError(ValueError):
    """A review action cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Invalidation:
    partner: str | None = None
    since: str | None = None
    until: str | None = None
    email_domain: str | None = None

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in vars(self).items() if v]
        return ", ".join(parts)


def _instant(raw: str | None, name: str, later: bool = False) -> str | None:
    """A window's bound as stored, on a whole hour: signatures keep only the hour they were
    made in, so a window from 15:40 must start at 15:00 to take in one made at 15:50
    (stored as 15:00), and one until 15:20 must end at 16:00 (`later`). The operator is
    shown the window as widened."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReviewError(f"{name}: expected a date or time like 2026-11-24T10:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if later and hour < moment:
        hour += timedelta(hours=1)
    return hour.strftime(STAMP)


def parse_invalidation(
    partner: str | None, since: str | None, until: str | None, email_domain: str | None
) -> Invalidation:
    """Validate an invalidation; at least one filter, so a slip never voids a campaign."""
    try:
        partner = signing.normalise_partner((partner or "").strip() or None)
    except ValueError:
        raise ReviewError("partner: not a partner code") from None
    domain = (email_domain or "").strip().lower().lstrip("@") or None
    if domain is not None and ("." not in domain or "@" in domain or " " in domain):
        raise ReviewError("email_domain: expected a domain like example.org")
    bounds = _instant(since, "since"), _instant(until, "until", later=True)
    if bounds[0] and bounds[1] and bounds[0] >= bounds[1]:
        raise ReviewError("until: must be after since (the window would hold no signature)")
    chosen = Invalidation(partner, *bounds, domain)
    if not chosen.describe():
        raise ReviewError("name a partner, a time window or an email domain")
    return chosen


DOMAINS_OFF = (
    "invalidation by email domain is off: no domain is kept unless PETITION_WIDGET_DOMAIN_KEY "
    "is set (it matches only signatures made after it was set)"
)


def _domain_key(which: Invalidation, domain_secret: str | None) -> bytes | None:
    if not which.email_domain:
        return None
    if not domain_secret:
        raise ReviewError(DOMAINS_OFF)
    return signing.domain_key(domain_secret, "x@" + which.email_domain)


async def invalidate(
    store: Store,
    campaign: Campaign,
    domain_secret: str | None,
    which: Invalidation,
    audit: Audit | None = None,
) -> int:
    domain_key = _domain_key(which, domain_secret)
    return await store.invalidate(
        campaign.slug, which.partner, which.since, which.until, domain_key, audit
    )


async def count_invalidatable(
    store: Store, campaign: Campaign, domain_secret: str | None, which: Invalidation
) -> tuple[int, int]:
    """How many signatures `invalidate` would mark now, and how many of them count."""
    domain_key = _domain_key(which, domain_secret)
    return await store.count_invalidatable(
        campaign.slug, which.partner, which.since, which.until, domain_key
    )


async def purge(
    store: Store, campaign: Campaign, older_than_days: int, audit: Audit | None = None
) -> int:
    """Remove the personal data of a closed campaign's signatures older than N days."""
    return await store.purge(campaign.slug, _purge_limit(campaign, older_than_days), audit)


async def count_purgeable(store: Store, campaign: Campaign, older_than_days: int) -> int:
    """How many signatures `purge` would empty now."""
    return await store.count_purgeable(campaign.slug, _purge_limit(campaign, older_than_days))


def _purge_limit(campaign: Campaign, older_than_days: int) -> str:
    if campaign.is_open:
        raise ReviewError("only a closed campaign can be purged: close it first")
    if older_than_days < 0:
        raise ReviewError("--older-than must be 0 days or more")
    before = datetime.now(UTC) - timedelta(days=older_than_days)
    return before.strftime("%Y-%m-%dT%H:%M:%SZ")
