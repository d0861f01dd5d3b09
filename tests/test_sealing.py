"""Signers' safety at rest: personal data sealed to the operator's key, so a stolen database
does not say who signed; partners' own keys; migrating a plaintext database; retention; holds
and invalidation."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sqlite3
import stat
from dataclasses import replace

import pytest

from tests.conftest import OPENER, TEST_SECRET, count, sign, signer
from widget import sealing
from widget.cli import main
from widget.resources import resource
from widget.store import open_store

SEEDED = [
    signer(i, first_name=f"Hanna{i}x", last_name=f"Qwsurname{i}", email=f"hanna.q{i}@mail.example")
    for i in range(12)
]


async def cli(argv: list[str]) -> None:
    """The command line, run as an operator would: in its own thread and event loop."""
    await asyncio.to_thread(main, argv)


def database_bytes(path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_the_database_file_holds_no_name_or_email(client, tmp_path):
    for form in SEEDED:
        assert (await sign(client, form)).status_code == 200
    await client.app.state.service.store.close()
    raw = database_bytes(tmp_path / "petition-widget.db")
    for form in SEEDED:
        for field in ("first_name", "last_name", "email"):
            assert form[field].encode() not in raw, form[field]
        assert form["email"].split("@")[0].encode() not in raw
    assert b"mail.example" not in raw
    await client.app.state.service.store.open()


async def test_sealed_rows_open_with_the_key_and_only_with_it(client):
    await sign(client, signer(1, last_name="Qwsurname"))
    store = client.app.state.service.store
    async with store._reader.execute("SELECT sealed FROM signatures") as cursor:
        ((blob,),) = await cursor.fetchall()
    assert OPENER.open(blob)["last_name"] == "Qwsurname"
    stranger = sealing.Opener(sealing.private_key(sealing.generate_keypair()[0]))
    with pytest.raises(sealing.SealingKeyError, match="does not open"):
        stranger.open(blob)


async def test_a_partner_with_a_key_gets_its_opted_in_signers_sealed_to_it(client):
    private, public = sealing.generate_keypair()
    from widget.partners import make_partner

    service = client.app.state.service
    await service.store.save_partner(make_partner("diaspora", "Diaspora", public_key=public))
    await service.campaigns.reload(force=True)
    await sign(client, signer(1, partner="diaspora", partner_opt_in="1"))
    await sign(client, signer(2, partner="diaspora"))
    async with service.store._reader.execute(
        "SELECT partner_sealed FROM signatures ORDER BY id"
    ) as cursor:
        (first,), (second,) = await cursor.fetchall()
    assert second is None  # no consent, nothing for the partner
    opened = sealing.Opener(sealing.private_key(private)).open(first)
    assert opened["email"] == "alesia1@example.org"


def test_keys_generate_writes_an_owner_only_private_key_and_never_overwrites(tmp_path, capsys):
    main(["keys", "generate", "--out", str(tmp_path)])
    private = tmp_path / "operator-private.key"
    public = tmp_path / "operator-public.key"
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert "PETITION_WIDGET_PUBLIC_KEY=" in capsys.readouterr().out
    sealing.read_private_key(private)
    sealing.public_key(public.read_text())
    with pytest.raises(SystemExit, match="exists already"):
        main(["keys", "generate", "--out", str(tmp_path)])


def test_export_and_decrypt_refuse_without_or_with_the_wrong_key(tmp_path):
    db = str(tmp_path / "k.db")
    main(["campaign", "load", str(resource("campaigns") / "belarus.toml"), "--database", db])
    with pytest.raises(SystemExit, match="give --private-key"):
        main(["export", "belarus", "--kind", "operator", "--database", db])
    with pytest.raises(SystemExit, match="cannot read the private key"):
        main(["export", "belarus", "--kind", "operator", "--private-key", "nope", "--database", db])
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(SystemExit, match="is not a private key"):
        main(
            ["export", "belarus", "--kind", "operator", "--private-key", str(bad), "--database", db]
        )
    main(
        ["export", "belarus", "--kind", "delivery", "-o", str(tmp_path / "d.csv"), "--database", db]
    )


async def test_plaintext_database_is_sealed_by_a_command_without_losing_a_row(tmp_path, capsys):
    db = tmp_path / "old.db"
    await cli(
        ["campaign", "load", str(resource("campaigns") / "belarus.toml"), "--database", str(db)]
    )
    # Rows as a database from before sealing holds them: plaintext, sealed NULL.
    raw = sqlite3.connect(db)
    raw.executemany(
        "INSERT INTO signatures (campaign, email_key, first_name, last_name, email, postal_code, "
        "country, opt_in, partner, partner_opt_in, signed_at) "
        "VALUES ('belarus', ?, ?, ?, ?, '', 'CA', 1, NULL, 0, '2026-11-01T10:00:00Z')",
        [(bytes([i]) * 32, f"Oldfirst{i}", f"Oldsurname{i}", f"old{i}@legacy.example")
         for i in range(30)],
    )  # fmt: skip
    raw.execute("UPDATE campaigns SET signature_count = 30")
    raw.commit()
    raw.close()
    capsys.readouterr()
    await cli(["seal", "--database", str(db)])
    assert "sealed 30 row(s)" in capsys.readouterr().out
    content = database_bytes(db)
    assert b"Oldsurname" not in content and b"legacy.example" not in content
    key = sealing.key_paths(str(db))[1]
    out = tmp_path / "all.csv"
    await cli(["export", "belarus", "--kind", "operator", "--private-key", str(key), "-o", str(out),
          "--database", str(db)])  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert sorted(r["last_name"] for r in rows) == sorted(f"Oldsurname{i}" for i in range(30))
    await cli(["campaign", "list", "--database", str(db)])
    assert capsys.readouterr().out.splitlines()[1].split() == ["belarus", "open", "815", "30"]


async def test_purge_keeps_the_counts_and_needs_a_closed_campaign(client, tmp_path, capsys):
    for form in SEEDED[:5]:
        await sign(client, form)
    db = str(tmp_path / "petition-widget.db")
    await client.app.state.service.store.close()
    with pytest.raises(SystemExit, match="only a closed campaign"):
        await cli(["purge", "belarus", "--older-than", "0", "--database", db])
    await cli(["campaign", "set", "belarus", "status", "closed", "--database", db])
    await cli(["purge", "belarus", "--older-than", "0", "--database", db])
    assert "personal data of 5 signature(s)" in capsys.readouterr().out
    assert b"Qwsurname" not in database_bytes(tmp_path / "petition-widget.db")
    store = open_store(db)
    await store.open()
    assert (await store.counts())["belarus"] == 5
    stats = await store.stats("belarus", "")
    assert stats.by_country == [("CA", 5)]
    async with store._reader.execute("SELECT count(*) FROM signatures WHERE sealed IS NULL") as c:
        assert (await c.fetchone())[0] == 5
    await store.close()
    await client.app.state.service.store.open()


async def test_held_signatures_count_only_when_released(client):
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, hold_for_review=True))
    await service.campaigns.reload(force=True)
    for form in SEEDED[:3]:
        response = await sign(client, form)
        assert response.json()["ok"] is True
    assert await count(client) == 785
    assert (await service.store.stats("belarus", "")).held == 3
    assert await service.store.release_held("belarus") == 3
    assert await count(client) == 788


async def test_invalidation_by_domain_partner_and_time_uncounts_exactly(
    client, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("PETITION_WIDGET_SECRET_KEY", TEST_SECRET)  # the server's key
    await sign(client, signer(1, email="a@flood.example"))
    await sign(client, signer(2, email="b@flood.example"))
    await sign(client, signer(3, partner="bots"))
    await sign(client, signer(4))
    assert await count(client) == 789
    db = str(tmp_path / "petition-widget.db")
    await cli(["invalidate", "belarus", "--email-domain", "FLOOD.example", "--database", db])
    assert "invalidated 2" in capsys.readouterr().out
    await cli(["invalidate", "belarus", "--partner", "bots", "--database", db])
    with pytest.raises(SystemExit, match="name a partner, a time window"):
        await cli(["invalidate", "belarus", "--database", db])
    with pytest.raises(SystemExit, match="since: expected a date"):
        await cli(["invalidate", "belarus", "--since", "yesterday", "--database", db])
    store = client.app.state.service.store
    assert (await store.counts())["belarus"] == 1
    await cli(["invalidate", "belarus", "--since", "2000-01-01", "--database", db])
    assert (await store.counts())["belarus"] == 0
    async with store._reader.execute("SELECT count(*) FROM signatures") as cursor:
        assert (await cursor.fetchone())[0] == 4  # kept, for the record, but not counted
