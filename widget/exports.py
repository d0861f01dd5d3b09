"""CSV exports, streamed chunk by chunk in constant memory: the operator's full file, the
delivery file that goes to the target, and a partner's opted-in signers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import NamedTuple

from widget.campaigns import SLUG_RE, Campaign
from widget.countries import country_choices
from widget.signing import PARTNER_RE
from widget.store import SignatureRow, Store

OPERATOR = "operator"
DELIVERY = "delivery"
PARTNER = "partner"
KINDS = (OPERATOR, DELIVERY, PARTNER)

MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = b"\xef\xbb\xbf"  # so spreadsheets read the file as UTF-8
CHUNK = 1000
# A spreadsheet runs a cell starting with these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

OPERATOR_HEADER = (
    "first_name", "last_name", "email", "country", "postal_code", "opt_in", "partner",
    "partner_opt_in", "signed_at",
)  # fmt: skip
PARTNER_HEADER = ("first_name", "last_name", "email", "country", "postal_code", "signed_at")


def neutralise(value: object) -> str:
    """A cell's text, with a leading quote if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Encoder:
    """One small reused buffer; every cell of every export passes through `neutralise`."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def encode(self, rows: Iterable[Iterable[object]]) -> bytes:
        self._writer.writerows([neutralise(cell) for cell in row] for row in rows)
        data = self._buffer.getvalue().encode()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def _yes_no(flag: int) -> str:
    return "yes" if flag else "no"


async def operator_csv(
    store: Store, campaign: Campaign, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """Every stored field of every signature, for the organisation's own use."""
    encoder = _Encoder()
    yield BOM + encoder.encode([OPERATOR_HEADER])
    async for rows in store.signature_rows(campaign.slug, chunk=chunk):
        yield encoder.encode(
            (r.first_name, r.last_name, r.email, r.country, r.postal_code, _yes_no(r.opt_in),
             r.partner or "", _yes_no(r.partner_opt_in), r.signed_at)
            for r in rows
        )  # fmt: skip


async def partner_csv(
    store: Store, campaign: Campaign, partner_code: str, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """The signers who came through a partner and agreed to hear from it; nobody else."""
    encoder = _Encoder()
    yield BOM + encoder.encode([PARTNER_HEADER])
    async for rows in store.signature_rows(campaign.slug, partner=partner_code, chunk=chunk):
        yield encoder.encode(
            (r.first_name, r.last_name, r.email, r.country, r.postal_code, r.signed_at)
            for r in rows
        )


class DeliveryName(NamedTuple):
    """All the delivery file may know of a signer: the first name and one initial."""

    first_name: str
    initial: str  # "K." or ""

    def __str__(self) -> str:
        return f"{self.first_name} {self.initial}".strip()


_WORD_PARTS = re.compile(r"[\s\-\u2010\u2011]+")  # spaces and hyphens


def delivery_name(row: SignatureRow) -> DeliveryName | None:
    """The first name and surname initial, or None if nothing safe is left to show.

    A first-name field sometimes holds the whole name or an address; words matching the
    surname, and anything with an @, are dropped so they never reach the target."""
    surname_parts = {p.casefold() for p in _WORD_PARTS.split(row.last_name) if p}
    words = [
        word
        for word in row.first_name.split()
        if "@" not in word
        and not any(p.casefold() in surname_parts for p in _WORD_PARTS.split(word) if p)
    ]
    if not words:
        return None
    first = row.last_name[:1]
    upper = first.upper()
    # One letter only: a non-letter start, or a letter whose capital is two, shows none.
    initial = ((upper if len(upper) == 1 else first) + ".") if first.isalpha() else ""
    return DeliveryName(" ".join(words), initial)


async def _delivery_names(store: Store, slug: str, chunk: int) -> AsyncIterator[list[str]]:
    """The only place the delivery export sees a signature row: each one is cut down to a
    DeliveryName before anything of it is written."""
    async for rows in store.signature_rows(slug, chunk=chunk):
        yield [str(name) for name in map(delivery_name, rows) if name is not None]


async def delivery_csv(
    store: Store, campaign: Campaign, with_first_names: bool, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """The file for the target: totals, counts by country and, if asked, first names with
    an initial. Never a surname, an email address or a postal code."""
    stats = await store.stats(campaign.slug, since="")
    online = sum(n for _, n in stats.by_country)
    names = dict(country_choices("en"))
    encoder = _Encoder()
    yield BOM + encoder.encode(
        [
            ("Petition", campaign.title),
            ("Organisation", campaign.organisation),
            *([("Addressed to", campaign.target)] if campaign.target else []),
            ("Total signatures", campaign.counter_offset + online),
            ("of which signed online", online),
            *([("of which gathered elsewhere", campaign.counter_offset)]
              if campaign.counter_offset else []),
            (),
            ("Country", "Country code", "Signatures online"),
            *((names.get(code, code), code, n) for code, n in stats.by_country),
        ]
    )  # fmt: skip
    if not with_first_names:
        return
    yield encoder.encode([(), ("Signed by (first name and initial of the last name)",)])
    async for batch in _delivery_names(store, campaign.slug, chunk):
        yield encoder.encode((name,) for name in batch)


def filename(campaign_slug: str, kind: str, today: date, partner_code: str | None = None) -> str:
    """The download name, e.g. belarus-delivery-2026-11-24.csv."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    # The name goes into a Content-Disposition header: only slugs, never a person's input.
    if not SLUG_RE.match(campaign_slug) or (partner_code and not PARTNER_RE.match(partner_code)):
        raise ValueError("not a campaign slug or partner code")
    who = f"-{partner_code}" if partner_code else ""
    return f"{campaign_slug}-{kind}{who}-{today.isoformat()}.csv"
