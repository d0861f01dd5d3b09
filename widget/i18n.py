"""Languages: which one a reader gets, the gettext catalogs, locale-formatted numbers, and
each language's name and writing direction."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal

from widget.campaigns import LANGUAGES

DOMAIN = "messages"
LOCALES = Path(__file__).resolve().parent / "locales"


def N_(message: str) -> str:
    """Marks a message for the catalog (babel.cfg's keyword); it is translated where it is
    shown, into the reader's language."""
    return message


def negotiate(requested: str | None, accept_language: str | None, default: str) -> str:
    """The explicit choice (data-lang / ?lang=), then Accept-Language, then the default."""
    if requested:
        code = requested.strip().lower().replace("_", "-").split("-")[0]
        if code in LANGUAGES:
            return code
    for code in _accepted(accept_language or ""):
        if code in LANGUAGES:
            return code
    return default


# Only this much of Accept-Language is read, and only this many of its languages: a browser
# sends a few dozen bytes, and a huge header must not cost time to parse.
ACCEPT_LANGUAGE_PREFIX = 256
ACCEPT_LANGUAGE_ENTRIES = 16


def _accepted(header: str) -> list[str]:
    weighted = []
    parts = header[:ACCEPT_LANGUAGE_PREFIX].split(",", ACCEPT_LANGUAGE_ENTRIES)
    for position, part in enumerate(parts[:ACCEPT_LANGUAGE_ENTRIES]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [code for _, _, code in sorted(weighted)]


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for a language; English (the source text) when there is none."""
    return gettext.translation(DOMAIN, LOCALES, languages=[language], fallback=True)


def format_number(value: int, language: str) -> str:
    return format_decimal(value, locale=language)


def direction(language: str) -> str:
    """`rtl` or `ltr`, for <html dir>, from CLDR's character order for the language."""
    return "rtl" if Locale.parse(language).character_order == "right-to-left" else "ltr"


def autonym(language: str) -> str:
    """The language's name in itself, as a language menu shows it: "Français", "Беларуская"."""
    name = Locale.parse(language).display_name or language
    return name[:1].upper() + name[1:]
