"""The reader who signs: through the iframe with JavaScript (JSON) and without (303)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import OPENER, count, fresh_token, sign, signer


async def test_fresh_install_reads_785(client):
    page = await client.get("/c/belarus/embed")
    assert page.status_code == 200
    assert "785 people have taken action" in page.text
    assert await count(client) == 785


async def test_signing_counts_at_once(client):
    response = await sign(client, signer(1))
    assert response.status_code == 200
    body = response.json()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", body.pop("withdraw_code"))
    assert body == {
        "ok": True,
        "count": 786,
        "count_text": "786 people have taken action",
        "goal_text": "",  # the campaign has no goal
        "pending": False,
    }
    assert await count(client) == 786
    assert "786 people have taken action" in (await client.get("/c/belarus/embed")).text


async def test_signing_again_in_other_case_is_indistinguishable(client):
    """A repeat in other case is the same address: stored and counted like a new signature,
    so the count cannot tell whether it had signed (tests/test_membership.py says more)."""
    first = await sign(client, signer(1, email="Alesia@Example.org"))
    again = await sign(client, signer(1, email="  ALESIA@example.ORG "))
    assert first.status_code == again.status_code == 200
    assert (first.json()["count"], again.json()["count"]) == (786, 787)
    assert await count(client) == 787

    no_js_first = await sign(client, signer(2), json=False)
    no_js_again = await sign(client, signer(2, email="ALESIA2@EXAMPLE.ORG"), json=False)
    assert no_js_first.status_code == no_js_again.status_code == 303
    # The same page, each with its own receipt for its own withdrawal code.
    first_url, again_url = (
        r.headers["location"].split("&receipt=") for r in (no_js_first, no_js_again)
    )
    assert first_url[0] == again_url[0] and len(first_url[1]) == len(again_url[1])
    assert await count(client) == 789
    assert (await client.app.state.service.store.unique_signers())["belarus"] == 2


async def test_without_javascript_redirects_to_thanks(client):
    response = await sign(client, signer(1, view="hosted"), json=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/c/belarus/thanks")
    thanks = await client.get(location)
    assert thanks.status_code == 200
    assert "Thank you" in thanks.text
    assert "786 people have taken action" in thanks.text
    assert "Alesia" not in thanks.text


async def test_error_keeps_input_and_ties_errors_to_fields(client):
    form = signer(1, email="not-an-address", country="")
    response = await sign(client, form, json=False)
    assert response.status_code == 422
    html = response.text
    assert 'value="Alesia1"' in html and 'value="Kavalchuk1"' in html
    assert 'value="not-an-address"' in html
    assert re.search(r'id="pw-email-error"[^>]*>Enter a valid email address', html)
    assert 'aria-describedby="pw-email-error" aria-invalid="true"' in html
    assert '<a href="#pw-email">' in html and '<a href="#pw-country">' in html
    assert await count(client) == 785


async def test_json_errors_name_fields_and_renew_the_token(client):
    response = await sign(client, signer(1, first_name="", email="x@"))
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert set(body["errors"]) == {"first_name", "email"}
    assert body["token"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", ""),
        ("first_name", "   "),
        ("first_name", "A" * 101),
        ("first_name", "<script>"),
        ("first_name", "Anna\x00"),
        ("last_name", "Smith\u202e"),
        ("last_name", ""),
        ("email", ""),
        ("email", "no-at-sign"),
        ("email", "a@b"),
        ("email", "x" * 250 + "@example.org"),
        ("country", ""),
        ("country", "XX"),
        ("country", "Canada"),
    ],
)
async def test_bad_fields_are_refused_and_not_counted(client, field, value):
    response = await sign(client, signer(1, **{field: value}))
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert await count(client) == 785


async def test_names_and_email_are_normalised(client, database):
    response = await sign(
        client, signer(1, first_name="  Ales   ia ", email=" Alesia1@EXAMPLE.org ")
    )
    assert response.status_code == 200
    ((sealed,),) = database.rows("SELECT sealed FROM signatures")
    opened = OPENER.open(sealed)
    assert (opened["first_name"], opened["email"]) == ("Ales ia", "alesia1@example.org")


async def test_partner_code_is_recorded_and_validated(client, database):
    assert (await sign(client, signer(1, partner="diaspora-org"))).status_code == 200
    bad = await sign(client, signer(2, partner="Not A Slug!"))
    assert bad.status_code == 422
    assert "partner" in bad.json()["errors"]
    assert database.rows("SELECT partner FROM signatures") == [("diaspora-org",)]


async def test_postal_code_only_when_the_campaign_asks(client, tmp_path):
    assert 'name="postal_code"' not in (await client.get("/c/belarus/embed")).text
    service = client.app.state.service
    from dataclasses import replace

    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, ask_postal_code=True))
    await service.campaigns.reload(force=True)
    assert 'name="postal_code"' in (await client.get("/c/belarus/embed")).text
    missing = await sign(client, signer(1))
    assert "postal_code" in missing.json()["errors"]
    ok = await sign(client, signer(1, postal_code="k1a 0b1"))
    assert ok.status_code == 200


async def test_opt_in_is_unchecked_by_default_and_stored(client, database):
    page = (await client.get("/c/belarus/embed")).text
    assert re.search(r'<input id="pw-opt_in"[^>]*type="checkbox"[^>]*value="1">', page)
    await sign(client, signer(1, opt_in="1"))
    await sign(client, signer(2))
    # 1 and 0 in SQLite, true and false in PostgreSQL: either compares equal to these.
    assert database.rows("SELECT opt_in FROM signatures ORDER BY id") == [(1,), (0,)]


async def test_token_is_bound_to_its_campaign(client):
    from widget.campaigns import load_file
    from widget.resources import resource

    other = load_file(resource("campaigns") / "belarus.toml")
    from dataclasses import replace

    service = client.app.state.service
    await service.store.save_campaign(replace(other, slug="other"))
    await service.campaigns.reload(force=True)
    token = await fresh_token(client, "other")
    response = await sign(client, signer(1), token=token)
    assert response.status_code == 422
    assert "could not be verified" in response.json()["errors"]["form"]
    assert await count(client) == 785
