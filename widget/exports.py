"""CSV exports, streamed chunk by chunk in constant memory: the operator's full file, the
delivery file that goes to the target, and a partner's opted-in signers. Names and emails
are sealed at rest: the files that hold them need a private key to open them, which the
server does not have; without one, the sealed file carries the boxes for the CLI to open."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import NamedTuple

from widget.campaigns import SLUG_RE, Campaign
from widget.countries import country_choices
from widget.sealing import PERSONAL_FIELDS, Opener, SealingKeyError
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
SEALED_HEADER = ("sealed", "country", "opt_in", "partner", "partner_opt_in", "signed_at")


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


def personal(row: SignatureRow, opener: Opener) -> dict[str, str]:
    """A row's names, email and postal code, opened with the operator's private key."""
    return row.legacy if row.legacy is not None else opener.open(row.sealed)


async def operator_csv(
    store: Store, campaign: Campaign, opener: Opener, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """Every stored field of every counted signature, for the organisation's own use."""
    encoder = _Encoder()
    yield BOM + encoder.encode([OPERATOR_HEADER])
    async for rows in store.signature_rows(campaign.slug, chunk=chunk):
        opened = [(personal(r, opener), r) for r in rows]
        yield encoder.encode(
            (p["first_name"], p["last_name"], p["email"], r.country, p["postal_code"],
             _yes_no(r.opt_in), r.partner or "", _yes_no(r.partner_opt_in), r.signed_at)
            for p, r in opened
        )  # fmt: skip


async def partner_csv(
    store: Store, campaign: Campaign, partner_code: str, opener: Opener, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """The signers who came through a partner and agreed to hear from it; nobody else."""
    encoder = _Encoder()
    yield BOM + encoder.encode([PARTNER_HEADER])
    async for rows in store.signature_rows(campaign.slug, partner=partner_code, chunk=chunk):
        opened = [(personal(r, opener), r) for r in rows]
        yield encoder.encode(
            (p["first_name"], p["last_name"], p["email"], r.country, p["postal_code"],
             r.signed_at)
            for p, r in opened
        )  # fmt: skip


async def sealed_csv(
    store: Store,
    campaign: Campaign,
    partner_to: str | None = None,
    only_partner: str | None = None,
    chunk: int = CHUNK,
    key_since: str = "",
) -> AsyncIterator[bytes]:
    """The export as the server can make it: the personal fields stay sealed boxes (base64)
    that `petition-widget decrypt` opens with the private key.

    `only_partner`: the partner's opted-in signers, sealed to the operator (the operator
    opens them and passes them on). `partner_to`: the same signers, sealed to the partner's
    own key, for the partner's export link; rows from before it registered a key are left
    out, since it could not open them, and so are rows signed before the hour its current key
    was set (`key_since`), sealed to a key it may no longer hold, or never held."""
    partner = partner_to or only_partner
    encoder = _Encoder()
    yield BOM + encoder.encode([SEALED_HEADER])
    since = key_since if partner_to else ""
    async for rows in store.signature_rows(
        campaign.slug, partner=partner, chunk=chunk, since=since
    ):
        boxes = ((r.partner_sealed if partner_to else r.sealed, r) for r in rows)
        yield encoder.encode(
            (_b64(box), r.country, _yes_no(r.opt_in), r.partner or "",
             _yes_no(r.partner_opt_in), r.signed_at)
            for box, r in boxes
            if box
        )  # fmt: skip


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode()


def decrypt_csv(source: Iterable[str], opener: Opener) -> Iterable[str]:
    """Open a sealed export (lines of CSV) into plain CSV, row by row."""
    rows = csv.reader(line.removeprefix("\ufeff") for line in source)
    header = next(rows, None)
    if header is None or tuple(header) != SEALED_HEADER:
        raise SealingKeyError("this is not a sealed export (its first line is not the header)")
    out = io.StringIO()
    writer = csv.writer(out)
    yield "\ufeff"
    writer.writerow([*PERSONAL_FIELDS, *SEALED_HEADER[1:]])
    for row in rows:
        opened = opener.open(base64.b64decode(row[0]))
        writer.writerow([neutralise(opened[f]) for f in PERSONAL_FIELDS] + row[1:])
        yield out.getvalue()
        out.seek(0)
        out.truncate()


class DeliveryName(NamedTuple):
    """All the delivery file may know of a signer: the first name and one initial."""

    first_name: str
    initial: str  # "K." or ""

    def __str__(self) -> str:
        return f"{self.first_name} {self.initial}".strip()


_WORD_PARTS = re.compile(r"[\s\-\u2010\u2011]+")  # spaces and hyphens


def delivery_name(first_name: str, last_name: str) -> DeliveryName | None:
    """The first name and surname initial, or None if nothing safe is left to show.

    A first-name field sometimes holds the whole name or an address; words matching the
    surname, and anything with an @, are dropped so they never reach the target."""
    surname_parts = {p.casefold() for p in _WORD_PARTS.split(last_name) if p}
    words = [
        word
        for word in first_name.split()
        if "@" not in word
        and not any(p.casefold() in surname_parts for p in _WORD_PARTS.split(word) if p)
    ]
    if not words:
        return None
    first = last_name[:1]
    upper = first.upper()
    # One letter only: a non-letter start, or a letter whose capital is two, shows none.
    initial = ((upper if len(upper) == 1 else first) + ".") if first.isalpha() else ""
    return DeliveryName(" ".join(words), initial)


async def _delivery_names(
    store: Store, slug: str, opener: Opener, chunk: int
) -> AsyncIterator[list[str]]:
    """The only place the delivery export sees a signature row: each one is cut down to a
    DeliveryName before anything of it is written."""
    async for rows in store.signature_rows(slug, chunk=chunk):
        people = (personal(row, opener) for row in rows)
        names = (delivery_name(p["first_name"], p["last_name"]) for p in people)
        yield [str(name) for name in names if name is not None]


async def delivery_csv(
    store: Store, campaign: Campaign, opener: Opener | None = None, chunk: int = CHUNK
) -> AsyncIterator[bytes]:
    """The file for the target: totals and counts by country and, given the private key to
    open them, first names with an initial. Never a surname, an email or a postal code."""
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
            # Online signatures count every one received (so the public count cannot tell a
            # repeat); the target may ask how many people that is.
            ("Unique signers online (each address once)", stats.signers),
            (),
            ("Country", "Country code", "Signatures online"),
            *((names.get(code, code), code, n) for code, n in stats.by_country),
        ]
    )  # fmt: skip
    if opener is None:
        return
    yield encoder.encode([(), ("Signed by (first name and initial of the last name)",)])
    async for batch in _delivery_names(store, campaign.slug, opener, chunk):
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
