"""Countries for the form: ISO 3166-1 codes with names from Babel's CLDR data."""

from __future__ import annotations

import unicodedata
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
    if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)


# Cyrillic alphabets whose order Unicode does not follow: ё and the Belarusian letters
# Russian lacks (U+0456, U+045E) have code points after я.
_ALPHABETS = {
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
}


# Where CLDR's names for a language come from: our French is Canadian French (courriel,
# Bélarus, as the campaign texts say), whose CLDR names differ from France's («Biélorussie»).
_CLDR_LOCALE = {"fr": "fr_CA"}


@cache
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs sorted by name in the reader's language."""
    names = Locale.parse(_CLDR_LOCALE.get(language, language)).territories
    pairs = [(code, names.get(code, code)) for code in COUNTRY_CODES]
    return tuple(sorted(pairs, key=lambda pair: sort_key(pair[1], language)))


def sort_key(name: str, language: str) -> tuple[str, str]:
    """Close to the language's alphabetical order without a collation library: accents come
    second (Égypte among the E, Åland among the A), and the letters of a Cyrillic alphabet
    take their places in it (Belarusian Індыя after Зімбабвэ, not after Японія)."""
    alphabet = _ALPHABETS.get(language, "")
    letters = []
    for char in name.casefold():
        if char in alphabet:
            letters.append(chr(0xE000 + alphabet.index(char)))  # private use: no clash
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            letters.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(letters), name.casefold()
