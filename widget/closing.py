"""When a campaign closes itself, and when the personal data of its signatures goes: a campaign
may set `closes_at` (a time with its zone) and `purge_after_days` (counted from then). The
service acts on both itself (widget/housekeeping.py); nobody has to remember a cron job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

STAMP = "%Y-%m-%dT%H:%M:%SZ"  # how the store keeps every time: UTC, to the second
# ...except what a reader's act records of its time (a signature's signed_at, a withdrawal's
# audit entry): only the hour, so that a stolen database or an export tells no more of when
# someone signed than a count published hourly does (docs/privacy.md).
HOUR_STAMP = "%Y-%m-%dT%H:00:00Z"
MAX_PURGE_DAYS = 3650
EXAMPLE = "2027-01-31T23:59:00Z or 2027-01-31T23:59:00+01:00"


def this_hour() -> str:
    """The hour that a reader's act made now keeps of its time (HOUR_STAMP)."""
    return datetime.now(UTC).strftime(HOUR_STAMP)


def parse_closes_at(value: Any) -> str:
    """A closing time from a campaign file (TOML's own date-time, or text) or the admin, as
    UTC text; "" for none. Raises ValueError saying what is wrong."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"must be a date and time like {EXAMPLE}") from None
    if not isinstance(value, datetime):
        kind = "a date without a time" if isinstance(value, date) else "not a date and time"
        raise ValueError(f"is {kind}: write it like {EXAMPLE}")
    if value.tzinfo is None:
        raise ValueError(f"needs a time zone (Z for UTC), like {EXAMPLE}")
    return value.astimezone(UTC).strftime(STAMP)


def moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)


def purge_at(closes_at: str, purge_after_days: int | None) -> str:
    """When the personal data goes, as UTC text; "" if never by itself."""
    if not closes_at or purge_after_days is None:
        return ""
    return (moment(closes_at) + timedelta(days=purge_after_days)).strftime(STAMP)


def now() -> str:
    return datetime.now(UTC).strftime(STAMP)
