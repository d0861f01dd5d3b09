"""Who signed must not leak: not into logs, not into what the host page receives, not as
a raw client address in the database."""

from __future__ import annotations

import logging

from tests.conftest import sign, signer


async def test_signing_logs_no_name_or_email(client, database, caplog):
    caplog.set_level(logging.DEBUG)
    await sign(client, signer(1, first_name="Uladzimir", last_name="Zzyzxsurname"))
    await sign(client, signer(1, first_name="Uladzimir", email="bad@"))
    with database.writes_refused():
        await sign(client, signer(2, first_name="Uladzimir", last_name="Zzyzxsurname"))
    text = caplog.text
    assert "not stored" in text  # the failed commit was logged…
    for secret in ["Uladzimir", "Zzyzxsurname", "alesia1@", "alesia2@"]:
        assert secret not in text  # …without the signer


async def test_no_client_address_or_user_agent_is_stored(client, database):
    await sign(
        client,
        signer(1),
        headers={"User-Agent": "Distinctive-Agent/1.0", "X-Forwarded-For": "203.0.113.77"},
    )
    raw = database.raw_bytes()
    for needle in [b"127.0.0.1", b"203.0.113.77", b"Distinctive-Agent", b"testclient"]:
        assert needle not in raw


async def test_duplicate_check_uses_a_keyed_hash(client, database):
    await sign(client, signer(1))
    ((key,),) = database.rows("SELECT email_key FROM signatures")
    assert len(key) == 32
    assert b"alesia" not in key


async def test_json_answer_holds_no_signer_data(client):
    response = await sign(client, signer(1, first_name="Hanna", last_name="Uniquesurname"))
    body = response.text
    for secret in ["Hanna", "Uniquesurname", "alesia1"]:
        assert secret not in body
