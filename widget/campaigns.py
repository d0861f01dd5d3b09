"""Campaigns: the Campaign type, and reading one from TOML with errors that name the field.
Its texts and their translations are in widget/texts.py."""

from __future__ import annotations

import logging
import math
import re
import time
import tomllib
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from widget import closing, origins
from widget.texts import LANGUAGES as LANGUAGES
from widget.texts import TEXT_FIELDS as TEXT_FIELDS
from widget.texts import CampaignError as CampaignError
from widget.texts import Content as Content
from widget.texts import parse_content, parse_text, parse_translations

OPEN = "open"
CLOSED = "closed"
STATUSES = (OPEN, CLOSED)
log = logging.getLogger(__name__)

ANY_ORIGIN = origins.ANY

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# A host name as it may stand in a CSP source: letters, digits, dots and hyphens only.
HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")


@dataclass(frozen=True)
class Campaign:
    slug: str
    organisation: str
    title: str
    target: str = ""
    tagline: str = ""
    body: tuple[str, ...] = ()
    call_to_action: str = ""
    demands: tuple[str, ...] = ()
    privacy_notice: str = ""
    counter_offset: int = 0
    # Below this count (offset included) readers see "Be one of the first to sign" rather
    # than a small number; a count of 0 always reads so.
    counter_minimum: int = 0
    # Readers see the count as it was at the start of each period of this many hours (0: live):
    # a site that knows its visitors then cannot see the count rise by one while one of them
    # was there (widget/counter.py).
    count_every_hours: int = 0
    goal: int | None = None
    status: str = OPEN
    allowed_origins: tuple[str, ...] = (ANY_ORIGIN,)
    theme_colour: str = "#1a1a1a"
    thank_you: str = ""
    share_text: str = ""
    ask_postal_code: bool = False
    language: str = "en"
    video_title: str = ""
    video_url: str = ""
    hold_for_review: bool = False
    confirm_email: bool = False  # counted once confirmed through an emailed link
    closes_at: str = ""  # UTC, like 2027-01-31T23:59:00Z; "" for no closing time
    purge_after_days: int | None = None  # counted from closes_at; None: never by itself
    # Texts in other languages than `language`; a text left out falls back to the main one.
    # Left out of the hash so that a Campaign stays hashable, as it was before.
    translations: dict[str, Content] = field(default_factory=dict, hash=False)

    @property
    def is_open(self) -> bool:
        """Open, and before its closing time: it closes at that moment, between two reloads."""
        return self.status == OPEN and time.time() < self._closes

    @cached_property
    def _closes(self) -> float:
        # is_open is asked on every reader page and signature: compare numbers, made once.
        return closing.moment(self.closes_at).timestamp() if self.closes_at else math.inf

    @property
    def state(self) -> str:
        """The status readers see: closed once the closing time has passed."""
        return OPEN if self.is_open else CLOSED

    @property
    def purge_at(self) -> str:
        """When the personal data of its signatures goes by itself; "" if never."""
        return closing.purge_at(self.closes_at, self.purge_after_days)

    @property
    def video_origin(self) -> str:
        """Where the video plays from, as the hosted page's CSP frame-src; "" without one."""
        parts = urlsplit(self.video_url)
        return f"{parts.scheme}://{parts.netloc}" if self.video_url else ""

    @property
    def video_host(self) -> str:
        """The video's host as readers know it: youtube-nocookie.com."""
        return (urlsplit(self.video_url).hostname or "").removeprefix("www.")

    def content(self, language: str) -> Content:
        """The texts in `language`, each one falling back to the campaign's own language."""
        return self._contents[language]

    @cached_property
    def _contents(self) -> dict[str, Content]:
        # Every page a reader loads asks for its language's texts: build them once.
        own = Content(**{name: getattr(self, name) for name in TEXT_FIELDS})
        contents = dict.fromkeys(LANGUAGES, own)
        for language, texts in self.translations.items():
            contents[language] = Content(
                **{name: getattr(texts, name) or getattr(own, name) for name in TEXT_FIELDS}
            )
        return contents

    def to_dict(self) -> dict[str, Any]:
        """The campaign as plain data, as it is stored (and as TOML would hold it)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "translations"}
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
        data["body"] = "\n\n".join(self.body)
        for optional in ("goal", "purge_after_days"):
            if data[optional] is None:
                data.pop(optional)
        if not self.closes_at:
            data.pop("closes_at")
        if not self.counter_minimum:
            data.pop("counter_minimum")
        if not self.count_every_hours:
            data.pop("count_every_hours")
        if self.translations:
            data["translations"] = {code: t.to_dict() for code, t in self.translations.items()}
        return data


_REQUIRED = ("slug", "organisation", "title")
# The numbers a campaign may leave out, which `campaign set SLUG FIELD ""` takes away.
OPTIONAL_NUMBERS = ("goal", "purge_after_days", "counter_minimum")
_KNOWN = set(Campaign.__dataclass_fields__)


def _video_url(data: dict[str, Any]) -> str:
    value = parse_text(data, "video_url", 500)
    if not value:
        return ""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise CampaignError("video_url", "has a port that is not a number") from None
    # Its origin goes into the hosted page's CSP: nothing but a plain host and port may.
    if parts.scheme != "https" or "@" in parts.netloc or not HOST_RE.match(parts.hostname or ""):
        raise CampaignError(
            "video_url",
            "must be an https:// address like https://www.youtube-nocookie.com/embed/ID",
        )
    return value


def _whole(data: dict[str, Any], name: str, minimum: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CampaignError(name, "must be a whole number")
    if value < minimum:
        raise CampaignError(name, f"must be at least {minimum}")
    return value


MAX_COUNT_EVERY_HOURS = 168  # a week


def _count_every_hours(data: dict[str, Any]) -> int:
    hours = _whole(data, "count_every_hours", 0) or 0
    if hours > MAX_COUNT_EVERY_HOURS:
        raise CampaignError(
            "count_every_hours", f"must be at most {MAX_COUNT_EVERY_HOURS} (a week); 0 for live"
        )
    if hours and 24 % hours and hours % 24:
        # Periods start at whole hours of UTC; one that neither divides a day nor is whole days
        # would start at another hour each day, which readers could not foresee.
        raise CampaignError(
            "count_every_hours", "must divide 24 (1, 2, 3, 4, 6, 8, 12) or be whole days (24, 48…)"
        )
    return hours


def _allowed_origins(value: Any, stored: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CampaignError("allowed_origins", 'must be a list of origins, or ["*"] for any')
    found: list[str] = []
    for entry in value:
        try:
            found.append(parse_origin(entry))
        except CampaignError:
            if not stored:
                raise
            log.warning("left out a stored allowed origin that is not an origin: %r", entry)
    allowed = tuple(dict.fromkeys(found))
    if ANY_ORIGIN in allowed and len(allowed) > 1:
        if not stored:
            raise CampaignError("allowed_origins", '"*" (any site) stands alone, without origins')
        return (ANY_ORIGIN,)
    return allowed


def parse_origin(value: Any, field: str = "allowed_origins") -> str:
    """An origin like https://example.org, normalised; `*` stands for any."""
    if value == ANY_ORIGIN:
        return ANY_ORIGIN
    if not isinstance(value, str):
        raise CampaignError(field, "each entry must be text")
    origin = origins.normalise(value.strip())
    if origin is None:
        raise CampaignError(
            field,
            f"{value!r} is not an origin: expected https://host or https://host:port "
            "(no path, spaces or other characters after it)",
        )
    return origin


def parse(data: dict[str, Any], stored: bool = False) -> Campaign:
    """Validate campaign data (from TOML, the admin or the CLI) and build a Campaign. Data
    read back from the store (`stored`) was checked when it was saved, perhaps by an older,
    looser version: an origin that no longer passes is left out (and logged), so that the
    campaign keeps serving without it rather than failing as a whole."""
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise CampaignError(unknown[0], "is not a campaign field")
    for name in _REQUIRED:
        if not data.get(name):
            raise CampaignError(name, "is required")
    slug = data["slug"]
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise CampaignError(
            "slug",
            "must be 1-40 lower-case letters, digits or hyphens, not starting or ending "
            "with a hyphen",
        )
    content = parse_content(data)

    status = data.get("status", OPEN)
    if status not in STATUSES:
        raise CampaignError("status", f"must be one of {', '.join(STATUSES)}")

    allowed = _allowed_origins(data.get("allowed_origins", [ANY_ORIGIN]), stored)

    colour = data.get("theme_colour", "#1a1a1a")
    if not isinstance(colour, str) or not COLOUR_RE.match(colour):
        raise CampaignError("theme_colour", "must be a colour like #ffd700")

    ask_postal = data.get("ask_postal_code", False)
    if not isinstance(ask_postal, bool):
        raise CampaignError("ask_postal_code", "must be true or false")
    hold = data.get("hold_for_review", False)
    if not isinstance(hold, bool):
        raise CampaignError("hold_for_review", "must be true or false")
    confirm = data.get("confirm_email", False)
    if not isinstance(confirm, bool):
        raise CampaignError("confirm_email", "must be true or false")

    language = data.get("language", "en")
    if language not in LANGUAGES:
        raise CampaignError("language", f"must be one of {', '.join(LANGUAGES)}")
    translations = parse_translations(data, language)

    video_url = _video_url(data)

    goal = _whole(data, "goal", 1)
    try:
        closes_at = closing.parse_closes_at(data.get("closes_at"))
    except ValueError as exc:
        raise CampaignError("closes_at", str(exc)) from None
    purge_after_days = _whole(data, "purge_after_days", 0)
    if purge_after_days is not None and purge_after_days > closing.MAX_PURGE_DAYS:
        raise CampaignError("purge_after_days", f"must be at most {closing.MAX_PURGE_DAYS}")
    if purge_after_days is not None and not closes_at:
        raise CampaignError("purge_after_days", "needs closes_at: the days count from then")
    return Campaign(
        slug=slug,
        counter_offset=_whole(data, "counter_offset", 0) or 0,
        counter_minimum=_whole(data, "counter_minimum", 0) or 0,
        count_every_hours=_count_every_hours(data),
        goal=goal,
        status=status,
        allowed_origins=allowed,
        theme_colour=colour.lower(),
        ask_postal_code=ask_postal,
        hold_for_review=hold,
        confirm_email=confirm,
        language=language,
        video_url=video_url,
        closes_at=closes_at,
        purge_after_days=purge_after_days,
        translations=translations,
        **{name: getattr(content, name) for name in TEXT_FIELDS},
    )


def load_file(path: str | Path) -> Campaign:
    """Read and validate one campaign TOML file."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise CampaignError("file", f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError("file", f"{path} is not valid TOML: {exc}") from None
    return parse(data)
