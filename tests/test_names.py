"""Names as the operator and the target will read them: every script's real names pass, and
nothing invisible, nothing that reorders the text and no pile of accents gets in."""

from __future__ import annotations

import unicodedata

import pytest

from tests.conftest import count, sign, signer
from widget.signing import normalise_name


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Святлана", "Ціханоўская"),  # Belarusian
        ("Алесь", "Бяляцкі"),
        ("Алексей", "Навальный"),  # Russian
        ("Фёдор", "Достоевский"),
        ("محمد", "عبد الله"),  # Arabic
        ("نرگس", "محمدی"),  # Persian
        ("علی‌رضا", "رضایی"),  # Persian, with its zero-width non-joiner between letters
        ("שָׁלוֹם", "לֵוִי"),  # Hebrew, pointed
        ("יעל", "כהן"),
        ("秀英", "王"),  # Chinese
        ("Thị Minh Khai", "Nguyễn"),  # Vietnamese, composed
        ("Nguye\u0302\u0303n", "Tra\u0302\u0300n"),  # Vietnamese, decomposed
        ("अर्जुन", "शर्मा"),  # Hindi
        ("Jean-Luc", "D'Arcy"),
        ("Seán", "Ó Briain"),
    ],
)
def test_names_in_every_script_pass(first, last):
    assert normalise_name(first, "first_name") == unicodedata.normalize("NFC", first)
    assert normalise_name(last, "last_name") == unicodedata.normalize("NFC", last)


INVISIBLE = "invisible formatting characters"
ACCENTS = "too many accents"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Ales\u061cia", INVISIBLE),  # Arabic letter mark (bidi)
        ("Alesia\u202e", INVISIBLE),  # right-to-left override
        ("Ale\u2066sia\u2069", INVISIBLE),  # isolates
        ("Ale\u200esia", INVISIBLE),  # left-to-right mark
        ("Ale\u200bsia", INVISIBLE),  # zero-width space
        ("Ale\u2060sia", INVISIBLE),  # word joiner
        ("\ufeffAlesia", INVISIBLE),  # byte order mark
        ("Alesia\U000e0041\U000e007f", INVISIBLE),  # tag characters
        ("Ale\u00adsia", INVISIBLE),  # soft hyphen
        ("Ale\u200dsia", INVISIBLE),  # a joiner inside a Latin name
        ("Але\u200cся", INVISIBLE),  # …or a Cyrillic one
        ("علی\u200c", INVISIBLE),  # a joiner at the end
        ("Alex\u0301\u0302\u0303\u0304", ACCENTS),  # four marks on one letter
        ("Z\u0351\u0352\u0353\u0354\u0355\u0356algo", ACCENTS),
        ("Alesia\x00", "not allowed"),
        ("Ale\ue000sia", "not allowed"),  # private use
        ("<b>Alesia</b>", "not allowed"),
    ],
)
def test_invisible_and_stacked_characters_are_refused(name, error):
    with pytest.raises(ValueError, match=error):
        normalise_name(name, "first_name")


async def test_the_reader_is_told_what_is_wrong_in_their_language(client):
    response = await sign(client, signer(1, last_name="Кавальчук\u200b", lang="ru"))
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "last_name": "Фамилия содержит невидимые символы форматирования (их часто вставляют "
        "вместе с текстом). Пожалуйста, введите её заново."
    }
    assert await count(client) == 785
