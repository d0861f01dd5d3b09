"""Countries for the form: ISO 3166-1 codes with names from Babel's CLDR data."""

from __future__ import annotations

from functools import cache

from babel import Locale

# CLDR lists two-letter territories that are not ISO 3166-1 countries: groupings, pseudo
# locales and ISO's "exceptionally reserved" codes. Kosovo (XK) stays: it is in common use.
_NOT_COUNTRIES = {
    "EU",
    "EZ",
    "UN",
    "QO",
    "XA",
    "XB",
    "ZZ",
    "AC",
    "CP",
    "CQ",
    "DG",
    "EA",
    "IC",
    "TA",
}

COUNTRY_CODES: frozenset[str] = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)


@cache
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs sorted by name in the reader's language."""
    names = Locale.parse(language).territories
    pairs = [(code, names.get(code, code)) for code in COUNTRY_CODES]
    return tuple(sorted(pairs, key=lambda pair: pair[1].casefold()))
