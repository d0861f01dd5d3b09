"""Whatever a refusal tells a reader to do works when they do it at once: "submit again" after
an autofilled form sent too fast or an expired form signs on the next click, with and without
JavaScript; an empty form shows what is missing, not the bot message."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from tests.conftest import TOKEN_RE, count, fresh_token, sign, signer
from widget import signing

TOO_FAST = "The form was sent too quickly"
EXPIRED = "This form has expired"


@pytest.fixture
async def timed(client_factory):
    async with client_factory(min_fill_seconds=2.0) as client:
        yield client


async def test_autofilled_too_fast_then_at_once_with_javascript(timed):
    refused = await sign(timed, signer(1))  # sent the moment it was shown
    assert refused.status_code == 422 and TOO_FAST in refused.json()["errors"]["form"]
    assert "retry" not in refused.json()
    again = await sign(timed, signer(1), token=refused.json()["token"])  # at once
    assert again.status_code == 200
    assert await count(timed) == 786


async def test_autofilled_too_fast_then_at_once_without_javascript(timed):
    refused = await sign(timed, signer(2, view="hosted"), json=False)
    assert refused.status_code == 422 and TOO_FAST in refused.text
    token = TOKEN_RE.search(refused.text).group(1)
    again = await sign(timed, signer(2, view="hosted"), json=False, token=token)
    assert again.status_code == 303


def expired_token(client, monkeypatch) -> str:
    tokens = client.app.state.service.tokens
    with monkeypatch.context() as m:
        old = int(time.time()) - tokens.max_age - 60
        m.setattr(TimestampSigner, "get_timestamp", lambda self: old)
        return tokens.issue("belarus", old)


@pytest.mark.parametrize("json", [True, False])
async def test_an_expired_form_signs_on_the_next_click(timed, monkeypatch, json):
    stale = expired_token(timed, monkeypatch)
    refused = await sign(timed, signer(3), json=json, token=stale)
    assert refused.status_code == 422
    if json:
        body = refused.json()
        assert EXPIRED in body["errors"]["form"] and body["retry"] is True  # frame.js resends
        token = body["token"]
    else:
        assert EXPIRED in refused.text
        token = TOKEN_RE.search(refused.text).group(1)
    assert (await sign(timed, signer(3), json=json, token=token)).status_code in (200, 303)


async def test_an_empty_form_sent_at_once_says_what_is_missing(timed):
    empty = await sign(timed, {"view": "embed", "lang": "en"})
    errors = empty.json()["errors"]
    assert set(errors) >= {"first_name", "last_name", "email", "country"}
    assert "form" not in errors  # not the bot message
    # The fill time runs on from when the form was first shown, not from this answer.
    tokens = timed.app.state.service.tokens
    result, shown_at = tokens.check(empty.json()["token"], "belarus", now=time.time() + 5)
    assert result == signing.TOKEN_OK and shown_at is not None


async def test_the_honeypot_still_refuses(timed):
    token = await fresh_token(timed)
    trapped = await sign(timed, signer(4, website="x"), token=token)
    assert trapped.status_code == 422
    assert await count(timed) == 785


def test_a_reissued_token_keeps_its_first_sight_and_cannot_be_forged():
    tokens = signing.Tokens("k" * 40, 3600, 2.0)
    now = time.time()
    carried = tokens.issue("belarus", now - 1)
    assert tokens.check(carried, "belarus", now)[0] == signing.TOKEN_TOO_FAST
    assert tokens.check(carried, "belarus", now + 1.5)[0] == signing.TOKEN_OK
    assert tokens.check(carried, "other", now + 5)[0] == signing.TOKEN_INVALID
    assert tokens.check(tokens.issue_ready("belarus"), "belarus")[0] == signing.TOKEN_OK
    forged = signing.Tokens("x" * 40, 3600, 2.0).issue("belarus", now - 100)
    assert tokens.check(forged, "belarus", now)[0] == signing.TOKEN_INVALID
