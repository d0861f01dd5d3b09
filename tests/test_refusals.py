"""Everything that must be refused, with a clear answer and the count unchanged."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.conftest import TEST_SECRET, count, fresh_token, sign, signer
from widget.signing import TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_OK, Tokens


async def test_forged_token(client):
    response = await sign(client, signer(1), token="ImJlbGFydXMi.forged.signature")
    assert response.status_code == 422
    assert "could not be verified" in response.json()["errors"]["form"]
    assert await count(client) == 785


async def test_token_signed_with_another_key(client):
    token = Tokens("another-secret-" + "x" * 40, 3600, 0).issue("belarus")
    response = await sign(client, signer(1), token=token)
    assert response.status_code == 422
    assert await count(client) == 785


async def test_missing_token(client):
    response = await sign(client, signer(1), token="")
    assert response.status_code == 422
    assert await count(client) == 785


async def test_expired_token(client_factory, monkeypatch):
    async with client_factory(token_max_age=60) as client:
        # A token signed two minutes ago, rather than a test that waits for one to expire.
        real = time.time
        with monkeypatch.context() as patch:
            patch.setattr(time, "time", lambda: real() - 120)
            token = Tokens(TEST_SECRET, 60, 0)._serializer.dumps("belarus")
        response = await sign(client, signer(1), token=token)
        assert response.status_code == 422
        assert "expired" in response.json()["errors"]["form"]
        assert await count(client) == 785


def test_a_token_checked_once_is_still_refused_once_it_expires(monkeypatch):
    tokens = Tokens(TEST_SECRET, 60, 0)
    token = tokens.issue("belarus")
    assert tokens.check(token, "belarus")[0] == TOKEN_OK
    assert tokens.check(token, "another")[0] == TOKEN_INVALID  # cached, still bound to its slug
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    assert tokens.check(token, "belarus") == (TOKEN_EXPIRED, None)
    monkeypatch.setattr(time, "time", lambda: real() - 5)  # a token from the future
    assert tokens.check(token, "belarus") == (TOKEN_EXPIRED, None)
    # One character changed where every bit counts (the last two could already be "xx", or
    # differ only in bits base64 ignores).
    mid = len(token) // 2
    tampered = token[:mid] + ("y" if token[mid] == "x" else "x") + token[mid + 1 :]
    assert tokens.check(tampered, "belarus")[0] == TOKEN_INVALID


async def test_faster_than_minimum_fill_time(client_factory):
    async with client_factory(min_fill_seconds=60) as client:
        response = await sign(client, signer(1))
        assert response.status_code == 422
        assert "sent too quickly" in response.json()["errors"]["form"]
        html = await sign(client, signer(1), json=False)
        assert html.status_code == 422
        assert "sent too quickly" in html.text
        assert 'value="Alesia1"' in html.text
        assert await count(client) == 785


async def test_filled_honeypot(client):
    response = await sign(client, signer(1, website="http://spam.example"))
    assert response.status_code == 422
    assert "automated" in response.json()["errors"]["form"]
    assert await count(client) == 785


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "http://testserver.evil.example", "http://testserver:81"],
)
async def test_foreign_or_null_origin(client, origin):
    response = await sign(client, signer(1), headers={"Origin": origin})
    assert response.status_code == 403
    assert "other sites" in response.json()["errors"]["form"]
    no_js = await sign(client, signer(1), json=False, headers={"Origin": origin})
    assert no_js.status_code == 403
    assert "other sites" in no_js.text
    assert await count(client) == 785


async def test_own_origin_is_accepted(client):
    response = await sign(client, signer(1), headers={"Origin": "http://testserver"})
    assert response.status_code == 200


async def test_public_url_setting_defines_our_origin(client_factory):
    async with client_factory(public_url="https://petitions.example.org") as client:
        client.headers["Host"] = "petitions.example.org"  # as the proxy passes it on
        ok = await sign(client, signer(1), headers={"Origin": "https://petitions.example.org"})
        assert ok.status_code == 200
        refused = await sign(client, signer(2), headers={"Origin": "http://testserver"})
        assert refused.status_code == 403


async def test_oversized_body(client):
    token = await fresh_token(client)
    data = {"token": token, **signer(1), "first_name": "A" * 20_000}
    response = await client.post("/c/belarus/sign", data=data)
    assert response.status_code == 413
    assert "too large" in response.text
    assert await count(client) == 785


async def test_oversized_streamed_body_without_length(client):
    async def chunks():
        for _ in range(40):
            yield b"first_name=" + b"A" * 1000 + b"&"

    response = await client.post(
        "/c/belarus/sign",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert await count(client) == 785


async def test_other_content_types(client):
    token = await fresh_token(client)
    response = await client.post(
        "/c/belarus/sign",
        json={"token": token, **signer(1)},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 415
    assert await count(client) == 785


async def test_undecodable_body(client):
    response = await client.post(
        "/c/belarus/sign",
        content=b"first_name=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


async def test_too_many_fields(client):
    body = "&".join(f"f{i}=x" for i in range(100))
    response = await client.post(
        "/c/belarus/sign",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


async def test_unknown_campaign_sign(client):
    response = await client.post(
        "/c/nope/sign", data=signer(1), headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_closed_campaign_refuses_and_shows_final_count(client):
    await sign(client, signer(1))
    token = await fresh_token(client)
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, status="closed"))
    await service.campaigns.reload(force=True)

    page = await client.get("/c/belarus/embed")
    assert "This petition is closed" in page.text
    assert "786 people have taken action" in page.text
    assert "<form" not in page.text
    response = await sign(client, signer(2), token=token)
    assert response.status_code == 403
    assert "closed" in response.json()["errors"]["form"]
    assert await count(client) == 786
    api = (await client.get("/api/campaigns/belarus")).json()
    assert api["status"] == "closed"


async def test_get_on_sign_is_not_allowed(client):
    assert (await client.get("/c/belarus/sign")).status_code == 405
