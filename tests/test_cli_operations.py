"""Every operator action has a command: operators, dump/set, partners, exports, signers."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import stat
import tomllib

import pytest

from tests.conftest import SEALER, TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, TEST_SECRET, signer
from widget import exports, sealing
from widget.cli import main
from widget.resources import resource
from widget.signing import accept
from widget.store import open_store


def run(capsys, *args: str) -> str:
    main(list(args))
    return capsys.readouterr().out


@pytest.fixture
def db(database, capsys, monkeypatch):
    """The database with the Belarus campaign; the CLI gets the keys the server has."""
    monkeypatch.setenv("PETITION_WIDGET_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PETITION_WIDGET_PUBLIC_KEY", TEST_PUBLIC_KEY)
    run(capsys, "campaign", "load", str(resource("campaigns") / "belarus.toml"),
        "--database", database.url)  # fmt: skip
    return database.url


@pytest.fixture
def private_key(tmp_path):
    """The operator's private key file, on the operator's machine."""
    path = tmp_path / "operator-private.key"
    sealing.write_key(path, TEST_PRIVATE_KEY)
    return str(path)


def seed(db: str, forms: list[dict[str, str]], sealer: sealing.Sealer = SEALER) -> None:
    """Signatures as the server stores them, sealed to the server's public key."""

    async def go():
        store = open_store(db)
        await store.open()
        campaign = (await store.campaigns())[0][0]
        for form in forms:
            signature, errors = accept(form, campaign, TEST_SECRET)
            assert not errors
            await store.add_signature(sealer.seal(signature))
        await store.close()

    asyncio.run(go())


def test_operator_add_list_remove(db, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert "added operator op@example.org" in run(
        capsys, "operator", "add", "OP@example.org", "--password-stdin", "--database", db
    )
    assert run(capsys, "operator", "list", "--database", db).startswith("op@example.org\t")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="at least 12"):
        main(["operator", "add", "x@example.org", "--password-stdin", "--database", db])
    assert "removed" in run(capsys, "operator", "remove", "op@example.org", "--database", db)
    assert run(capsys, "operator", "list", "--database", db) == "no operators\n"
    with pytest.raises(SystemExit, match="no operator"):
        main(["operator", "remove", "op@example.org", "--database", db])


def test_dump_round_trips(db, capsys, tmp_path):
    dumped = run(capsys, "campaign", "dump", "belarus", "--database", db)
    data = tomllib.loads(dumped)
    assert data["counter_offset"] == 785 and data["slug"] == "belarus"
    path = tmp_path / "again.toml"
    path.write_text(dumped)
    run(capsys, "campaign", "load", str(path), "--database", db)
    assert run(capsys, "campaign", "dump", "belarus", "--database", db) == dumped


def test_set_changes_one_field_and_validates(db, capsys):
    assert "counter_offset: 785 -> 900" in run(
        capsys, "campaign", "set", "belarus", "counter_offset", "900", "--database", db
    )
    run(capsys, "campaign", "set", "belarus", "status", "closed", "--database", db)
    assert run(capsys, "campaign", "list", "--database", db).splitlines()[1].split()[:3] == [
        "belarus", "closed", "900",
    ]  # fmt: skip
    with pytest.raises(SystemExit, match="counter_offset: must be a whole number"):
        main(["campaign", "set", "belarus", "counter_offset", "lots", "--database", db])
    with pytest.raises(SystemExit, match="slug cannot change"):
        main(["campaign", "set", "belarus", "slug", "other", "--database", db])
    with pytest.raises(SystemExit, match="no campaign"):
        main(["campaign", "set", "nope", "status", "open", "--database", db])


def test_set_to_nothing_takes_an_optional_number_away(db, capsys):
    """A goal, once set, can be taken away from the command line, as in the admin; a number
    that must be there is refused with the reason, and "" for a text empties it."""
    set_ = ("campaign", "set", "belarus")
    assert "goal: None -> 1000" in run(capsys, *set_, "goal", "1000", "--database", db)
    assert "goal: 1000 -> None" in run(capsys, *set_, "goal", '""', "--database", db)
    run(capsys, *set_, "counter_minimum", "50", "--database", db)
    run(capsys, *set_, "counter_minimum", "", "--database", db)  # as a shell passes ''
    dumped = tomllib.loads(run(capsys, "campaign", "dump", "belarus", "--database", db))
    assert "goal" not in dumped and "counter_minimum" not in dumped
    with pytest.raises(SystemExit, match="counter_offset: must be a whole number"):
        main([*set_, "counter_offset", "", "--database", db])
    assert "tagline (text)" in run(capsys, *set_, "tagline", "", "--database", db)


def test_partner_commands_and_exports(db, private_key, capsys, tmp_path):
    run(capsys, "partner", "add", "diaspora", "--name", "Diaspora Org",
        "--origin", "https://diaspora.example", "--database", db)  # fmt: skip
    assert "diaspora\tDiaspora Org" in run(capsys, "partner", "list", "--database", db)
    link = run(capsys, "partner", "link", "belarus", "diaspora", "--base",
               "https://petitions.example.org", "--database", db)  # fmt: skip
    assert link.startswith("https://petitions.example.org/c/belarus/partners/diaspora/export.csv?")
    with pytest.raises(SystemExit, match="PUBLIC_URL"):
        main(["partner", "link", "belarus", "diaspora", "--database", db])

    seed(db, [
        signer(1, partner="diaspora", partner_opt_in="1", last_name="Zzsurnameone"),
        signer(2, partner="diaspora", last_name="Zzsurnametwo"),
        signer(3, last_name="Zzsurnamethree"),
    ])  # fmt: skip
    key = private_key
    with pytest.raises(SystemExit, match="give --private-key"):
        main(["export", "belarus", "--kind", "operator", "--database", db])
    out = tmp_path / "partner.csv"
    main(["export", "belarus", "--kind", "partner", "--partner", "diaspora", "-o", str(out),
          "--private-key", key, "--database", db])  # fmt: skip
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["Zzsurnameone"]

    delivery = tmp_path / "delivery.csv"
    main(["export", "belarus", "--kind", "delivery", "--first-names", "-o", str(delivery),
          "--private-key", key, "--database", db])  # fmt: skip
    text = delivery.read_bytes().decode("utf-8-sig")
    assert "Zzsurname" not in text and "@" not in text

    operator = tmp_path / "operator.csv"
    main(["export", "belarus", "--kind", "operator", "-o", str(operator), "--private-key", key,
          "--database", db])  # fmt: skip
    assert operator.read_bytes().decode("utf-8-sig").count("Zzsurname") == 3
    with pytest.raises(SystemExit, match="needs --partner"):
        main(["export", "belarus", "--kind", "partner", "--private-key", key, "--database", db])


def test_updating_a_partner_changes_only_what_is_given(db, capsys):
    """Correcting a partner's name used to drop its contact, origins and key: its snippet
    stopped framing on its site. Now only what is given changes; the audit says what did."""
    partner = ["partner", "add", "diaspora", "--database", db]
    with pytest.raises(SystemExit, match="give --name to register it"):
        main(partner)
    assert run(capsys, *partner, "--name", "Diaspora Og", "--contact", "a@diaspora.example",
               "--origin", "https://diaspora.example", "--public-key", TEST_PUBLIC_KEY,
               ) == "partner diaspora: created\n"  # fmt: skip
    assert run(capsys, *partner, "--name", "Diaspora Org") == (
        "partner diaspora: name: 'Diaspora Og' -> 'Diaspora Org'\n"
    )
    assert run(capsys, "partner", "list", "--database", db) == (
        "diaspora\tDiaspora Org\ta@diaspora.example\thttps://diaspora.example\n"
    )
    assert run(capsys, *partner, "--name", "Diaspora Org") == "partner diaspora: no change\n"
    assert run(capsys, *partner, "--origin", "https://new.example") == (
        "partner diaspora: origins: +https://new.example, -https://diaspora.example\n"
    )
    for bad, says in [
        (["--no-origins", "--origin", "https://x.example"], "not both"),
        (["--origin", "javascript:alert(1)"], "is not an origin"),
        (["--public-key", "nope"], "not a public key"),
        (["--name", " "], "name: is required"),
    ]:
        with pytest.raises(SystemExit, match=says):
            main([*partner, *bad])
    assert "https://new.example" in run(capsys, "partner", "list", "--database", db)
    assert run(capsys, *partner, "--no-origins", "--contact", "", "--public-key", "") == (
        "partner diaspora: contact changed; origins: -https://new.example; own key removed\n"
    )
    assert run(capsys, "partner", "list", "--database", db) == "diaspora\tDiaspora Org\t\t\n"

    async def audit():
        store = open_store(db)
        await store.open()
        try:
            return [e.detail for e in await store.audit_log() if e.action == "partner.save"]
        finally:
            await store.close()

    assert asyncio.run(audit()) == [
        "diaspora: contact changed; origins: -https://new.example; own key removed",
        "diaspora: origins: +https://new.example, -https://diaspora.example",
        "diaspora: name: 'Diaspora Og' -> 'Diaspora Org'",
        "diaspora: created",
    ]


def test_removing_a_partner(db, capsys):
    run(capsys, "partner", "add", "diaspora", "--name", "Diaspora", "--database", db)
    seed(db, [signer(1, partner="diaspora", partner_opt_in="1")])
    said = run(capsys, "partner", "remove", "diaspora", "--database", db)
    assert said.startswith("removed partner diaspora (Diaspora): its export links no longer work")
    assert run(capsys, "partner", "list", "--database", db) == "no partners\n"
    with pytest.raises(SystemExit, match="no partner 'diaspora'"):
        main(["partner", "remove", "diaspora", "--database", db])

    async def kept():
        store = open_store(db)
        await store.open()
        try:
            (entry, *_) = await store.audit_log()
            return entry.action, entry.detail, await store.counts()
        finally:
            await store.close()

    assert asyncio.run(kept()) == ("partner.remove", "diaspora", {"belarus": 1})


def test_campaign_list_shows_the_count_readers_see(db, capsys, monkeypatch):
    """The shipped campaign's count is published hourly: COUNT is the count of the hour, as
    readers see it, SIGNATURES what has come in since too, and a line says which hour."""
    from widget.cli import content

    hour = 1_796_000_400  # 2026-11-30 01:00 UTC, a whole hour
    monkeypatch.setattr(content, "now", lambda: hour + 1200.0)
    seed(db, [signer(1)])
    listed = run(capsys, "campaign", "list", "--database", db).splitlines()
    assert listed[1].split() == ["belarus", "open", "786", "1", "1"]
    assert listed[2] == "belarus: COUNT is as of 2026-11-30 01:00 UTC, updated once an hour"
    seed(db, [signer(2), signer(3)])
    listed = run(capsys, "campaign", "list", "--database", db).splitlines()
    assert listed[1].split() == ["belarus", "open", "786", "3", "3"]
    monkeypatch.setattr(content, "now", lambda: hour + 3600.0)
    listed = run(capsys, "campaign", "list", "--database", db).splitlines()
    assert listed[1].split() == ["belarus", "open", "788", "3", "3"]
    assert listed[2] == "belarus: COUNT is as of 2026-11-30 02:00 UTC, updated once an hour"
    run(capsys, "campaign", "set", "belarus", "count_every_hours", "0", "--database", db)
    listed = run(capsys, "campaign", "list", "--database", db).splitlines()
    assert len(listed) == 2, "a live count needs no note"
    assert listed[1].split() == ["belarus", "open", "788", "3", "3"]


def test_signer_delete(db, capsys):
    seed(db, [signer(1), signer(2)])
    assert "deleted 1 signature(s) in belarus" in run(
        capsys, "signer", "delete", "--email", " ALESIA1@example.org", "--database", db
    )
    assert run(capsys, "campaign", "list", "--database", db).splitlines()[1].split() == [
        "belarus", "open", "786", "1", "1",
    ]  # fmt: skip
    assert "no signature" in run(
        capsys, "signer", "delete", "--email", "alesia1@example.org", "--database", db
    )
    with pytest.raises(SystemExit, match="valid email"):
        main(["signer", "delete", "--email", "nonsense", "--database", db])


async def sealed_export(db: str) -> bytes:
    store = open_store(db)
    await store.open()
    try:
        campaign = (await store.campaigns())[0][0]
        return b"".join([chunk async for chunk in exports.sealed_csv(store, campaign)])
    finally:
        await store.close()


def test_exports_and_decrypted_files_are_owner_only_whatever_the_umask(
    db, tmp_path, capsys, private_key
):
    seed(db, [signer(1, last_name="Zzsurnameone")])
    existing = tmp_path / "operator.csv"
    existing.write_text("an older file, readable by anyone")
    existing.chmod(0o644)
    sealed, opened = tmp_path / "sealed.csv", tmp_path / "opened.csv"
    previous = os.umask(0)
    try:
        main(["export", "belarus", "--kind", "operator", "-o", str(existing),
              "--private-key", private_key, "--database", db])  # fmt: skip
        sealed.write_bytes(asyncio.run(sealed_export(db)))  # as the admin serves it
        main(["decrypt", str(sealed), "--private-key", private_key, "-o", str(opened)])
    finally:
        os.umask(previous)
    for path in (existing, opened):  # what the CLI wrote (the sealed file came from the admin)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "Zzsurnameone" in existing.read_bytes().decode("utf-8-sig")
    assert "older file" not in existing.read_text(encoding="utf-8-sig")
    assert "Zzsurnameone" in opened.read_bytes().decode("utf-8-sig")


def test_rows_sealed_to_an_earlier_key_open_with_every_key_given(db, private_key, tmp_path):
    """The server was given a new public key: rows from before open only with the private key
    of that time. Export and decrypt take each key once; with one, they say so and write
    nothing, leaving an older file as it was."""
    old_private, old_public = sealing.generate_keypair()
    seed(db, [signer(1, last_name="Zzbefore")], sealing.Sealer(sealing.public_key(old_public)))
    seed(db, [signer(2, last_name="Zzafter")])
    old = tmp_path / "old-private.key"
    old.write_text(old_private + "\n")
    out = tmp_path / "operator.csv"
    out.write_text("last week's export")
    export = ["export", "belarus", "--kind", "operator", "-o", str(out), "--database", db]
    with pytest.raises(SystemExit, match="give every such key"):
        main([*export, "--private-key", private_key])
    assert out.read_text() == "last week's export"
    assert not (tmp_path / "operator.csv.partial").exists()
    main([*export, "--private-key", private_key, "--private-key", str(old)])
    text = out.read_bytes().decode("utf-8-sig")
    assert "Zzbefore" in text and "Zzafter" in text

    sealed, opened = tmp_path / "sealed.csv", tmp_path / "opened.csv"
    sealed.write_bytes(asyncio.run(sealed_export(db)))  # as the admin serves it
    main(["decrypt", str(sealed), "--private-key", str(old), "--private-key", private_key,
          "-o", str(opened)])  # fmt: skip
    text = opened.read_bytes().decode("utf-8-sig")
    assert "Zzbefore" in text and "Zzafter" in text
    stranger = tmp_path / "stranger.key"
    stranger.write_text(sealing.generate_keypair()[0] + "\n")
    with pytest.raises(SystemExit, match="none of these private keys opens the data"):
        main(["decrypt", str(sealed), "--private-key", str(stranger), "--private-key", private_key])
    # A key that opens the rows of its time, and not the later ones, says how far it got.
    with pytest.raises(
        SystemExit,
        match=r"these private keys opened 1 row\(s\), then one that "
        "none of them opens: that row was sealed to another public key",
    ):
        main(["decrypt", str(sealed), "--private-key", str(stranger), "--private-key", str(old)])
    with pytest.raises(
        SystemExit,
        match=r"this private key opened 1 row\(s\), then one that it "
        r"does not open.*give its private key too",
    ):
        main([*export, "--private-key", str(old)])
    assert "Zzbefore" in out.read_bytes().decode("utf-8-sig")  # the whole file made before
