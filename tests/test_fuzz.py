"""Arbitrary, huge and malformed input at every form field and query parameter: the answer
is never a server error, and only an accepted signature is counted."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import count, fresh_token

FORM_FIELDS = (
    "first_name", "last_name", "email", "country", "postal_code", "opt_in", "partner",
    "partner_opt_in", "lang", "view", "token", "website",
)  # fmt: skip
PAGES = (
    "/c/belarus/embed", "/c/belarus", "/c/belarus/counter", "/c/belarus/thanks",
    "/api/campaigns/belarus",
)  # fmt: skip
QUERY = ("lang", "partner", "view")
VALID = {
    "first_name": "Alesia",
    "last_name": "Kavalchuk",
    "country": "CA",
    "postal_code": "K1A 0B1",
    "opt_in": "on",
    "partner": "",
    "partner_opt_in": "on",
    "lang": "en",
    "view": "embed",
    "website": "",
}
VALID_CHOICE = "valid"  # placeholder: the field gets its valid value for this example
_emails = itertools.count()

# Every value is drawn already urlencoded, so that malformed encodings can be sent too.
text = st.one_of(
    st.text(),  # any unicode (surrogates cannot travel as UTF-8)
    st.text(st.characters(categories=["Cc", "Cf", "Mn", "Zl", "Zp", "Co"])),
    st.text(st.sampled_from("<>\"'&=;%@.-_ \u202e\u0000\ufeffЁё")),
)


def huge(most: int) -> st.SearchStrategy[str]:
    return st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=4),
                     st.integers(most // 10, most))  # fmt: skip


def encoded(most: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda value: quote(value, safe=""), st.one_of(text, huge(most))),
        st.builds(quote_from_bytes, st.binary()),  # not UTF-8 once decoded
        st.text(st.sampled_from("%&=+;#?zZ0fF\u00ff"), max_size=20),  # broken escapes
    )


# Bodies reach past the body limit; URLs stay under httpx's own 64 kB limit on a URL.
field_value = st.one_of(st.none(), st.just(VALID_CHOICE), encoded(6000))
query_value = st.one_of(st.none(), encoded(400))


@pytest.fixture
async def unlimited(client_factory) -> AsyncIterator[httpx.AsyncClient]:
    """One app for every example: the count is compared before and after each one."""
    async with client_factory(rate_limits="off") as client:
        yield client


def urlencoded(values: dict[str, str | None], valid: dict[str, str]) -> str:
    parts = []
    for name, value in values.items():
        if value == VALID_CHOICE:
            parts.append(f"{name}={quote(valid[name], safe='')}")
        elif value is not None:
            parts.append(f"{name}={value}")
    return "&".join(parts)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(changed=st.dictionaries(st.sampled_from(FORM_FIELDS), field_value), json=st.booleans())
async def test_any_form_gets_an_answer_and_only_an_accepted_one_counts(unlimited, changed, json):
    # A valid form with some fields changed or left out, so that accepted forms are tried too.
    fields = {**dict.fromkeys(FORM_FIELDS, VALID_CHOICE), **changed}
    email = f"fuzz{next(_emails)}@example.org"
    valid = {**VALID, "email": email, "token": await fresh_token(unlimited)}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if json:
        headers["Accept"] = "application/json"
    before = await count(unlimited)
    response = await unlimited.post(
        "/c/belarus/sign", content=urlencoded(fields, valid).encode(), headers=headers
    )
    grew = await count(unlimited) - before
    event(f"answered {response.status_code}")

    assert 200 <= response.status_code < 500, response.text[:500]
    accepted = response.status_code == 303 or (
        response.status_code == 200 and response.json()["ok"] is True
    )
    if not accepted:
        assert response.status_code >= 400
        assert grew == 0
    elif fields["email"] == VALID_CHOICE:
        assert grew == 1
    else:
        assert grew in (0, 1)  # a drawn address that happens to be valid may have signed before


@FUZZ
@given(
    page=st.sampled_from(PAGES),
    query=st.fixed_dictionaries(dict.fromkeys(QUERY, query_value)),
)
async def test_any_query_gets_an_answer(unlimited, page, query):
    query_string = "&".join(f"{name}={value}" for name, value in query.items() if value is not None)
    response = await unlimited.get(f"{page}?{query_string}")
    event(f"answered {response.status_code}")
    assert 200 <= response.status_code < 500, response.text[:500]
