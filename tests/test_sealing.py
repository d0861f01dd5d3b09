"""Signers' safety at rest: personal data sealed to the operator's key, so a stolen database
does not say who signed; partners' own keys; migrating a plaintext database; retention; holds
and invalidation."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import os
import stat
from dataclasses import replace

import pytest

from tests.conftest import (
    OPENER,
    TEST_PRIVATE_KEY,
    TEST_PUBLIC_KEY,
    TEST_SECRET,
    count,
    sign,
    signer,
)
from widget import sealing
from widget.campaigns import load_file
from widget.cli import main
from widget.resources import resource
from widget.settings import Settings
from widget.store import open_store

SEEDED = [
    signer(i, first_name=f"Hanna{i}x", last_name=f"Qwsurname{i}", email=f"hanna.q{i}@mail.example")
    for i in range(12)
]


async def cli(argv: list[str]) -> None:
    """The command line, run as an operator would: in its own thread and event loop."""
    await asyncio.to_thread(main, argv)


@pytest.fixture
def server_keys(monkeypatch, tmp_path):
    """The keys an operator gives the server (and the CLI beside it); returns the private key
    file that stays on the operator's machine."""
    monkeypatch.setenv("PETITION_WIDGET_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PETITION_WIDGET_PUBLIC_KEY", TEST_PUBLIC_KEY)
    private = tmp_path / "operator-private.key"
    sealing.write_key(private, TEST_PRIVATE_KEY)
    return private


async def test_the_database_holds_no_name_or_email(client, database):
    """On SQLite the file, its log and shared memory; on PostgreSQL every table of the
    schema, and (as a superuser may read them) the table, index and TOAST pages themselves."""
    for form in SEEDED:
        assert (await sign(client, form)).status_code == 200
    raw = database.raw_bytes()
    assert b"CA" in raw  # the countries are there in clear: the search does see the rows
    for form in SEEDED:
        for field in ("first_name", "last_name", "email"):
            assert form[field].encode() not in raw, form[field]
        assert form["email"].split("@")[0].encode() not in raw
    assert b"mail.example" not in raw


async def test_sealed_rows_open_with_the_key_and_only_with_it(client, database):
    await sign(client, signer(1, last_name="Qwsurname"))
    ((blob,),) = database.rows("SELECT sealed FROM signatures")
    assert OPENER.open(blob)["last_name"] == "Qwsurname"
    stranger = sealing.Opener(sealing.private_key(sealing.generate_keypair()[0]))
    with pytest.raises(sealing.SealingKeyError, match="does not open"):
        stranger.open(blob)


async def test_a_partner_with_a_key_gets_its_opted_in_signers_sealed_to_it(client, database):
    private, public = sealing.generate_keypair()
    from widget.partners import make_partner

    service = client.app.state.service
    await service.store.save_partner(make_partner("diaspora", "Diaspora", public_key=public))
    await service.campaigns.reload(force=True)
    await sign(client, signer(1, partner="diaspora", partner_opt_in="1"))
    await sign(client, signer(2, partner="diaspora"))
    (first,), (second,) = database.rows("SELECT partner_sealed FROM signatures ORDER BY id")
    assert second is None  # no consent, nothing for the partner
    opened = sealing.Opener(sealing.private_key(private)).open(first)
    assert opened["email"] == "alesia1@example.org"


async def test_a_partner_link_gives_only_rows_sealed_since_its_key_was_set(client, database):
    """A replaced key (or a code registered again) used to get every earlier opted-in row in
    its export: boxes it cannot open, beside their country and hour in clear. Now it gets the
    rows signed from the hour its key was set; a key set before that was kept gets all."""
    from widget import operations
    from widget.partners import make_partner
    from widget.urls import URLs

    service, store = client.app.state.service, client.app.state.service.store
    first_private, first_public = sealing.generate_keypair()
    second_private, second_public = sealing.generate_keypair()

    async def partner_with(public: str) -> None:
        await operations.save_partner(store, "op", make_partner("diaspora", "D", public_key=public))
        await service.campaigns.reload(force=True)

    async def link_rows() -> list[list[str]]:
        token = await operations.partner_link(
            store, "op", service.partner_links, "belarus", "diaspora", 1
        )
        got = await client.get(URLs().partner_export("belarus", "diaspora", token))
        assert got.status_code == 200
        return list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))[1:]

    await partner_with(first_public)
    await sign(client, signer(1, partner="diaspora", partner_opt_in="1"))
    # That signature was made an hour before the key is replaced.
    database.execute("UPDATE signatures SET signed_at = ?", "2026-01-01T10:00:00Z")
    await partner_with(second_public)
    await sign(client, signer(2, partner="diaspora", partner_opt_in="1"))
    (row,) = await link_rows()
    second = sealing.Opener(sealing.private_key(second_private))
    assert second.open(base64.b64decode(row[0]))["email"] == "alesia2@example.org"

    database.execute("UPDATE partners SET key_since = ''")  # a key set before it was kept
    assert len(await link_rows()) == 2
    await partner_with(second_public)  # the same key again: its hour stays as it was
    assert [p.key_since for p in await store.partners()] == [""]
    first = sealing.Opener(sealing.private_key(first_private))
    assert first.open(base64.b64decode((await link_rows())[0][0]))["email"] == (
        "alesia1@example.org"
    )


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


def test_keys_generate_says_why_it_cannot_write_and_leaves_no_lone_private_key(tmp_path):
    (tmp_path / "operator-public.key").write_text("an older public key\n")
    with pytest.raises(SystemExit, match=r"operator-public\.key exists already"):
        main(["keys", "generate", "--out", str(tmp_path)])
    assert not (tmp_path / "operator-private.key").exists()  # no key without its public key
    assert (tmp_path / "operator-public.key").read_text() == "an older public key\n"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    with pytest.raises(SystemExit, match=r"cannot write .*notes.txt is not a folder"):
        main(["keys", "generate", "--out", str(a_file)])
    with pytest.raises(SystemExit, match=r"cannot write .*: Not a directory"):
        main(["keys", "generate", "--out", str(a_file / "keys")])


def test_without_a_configured_key_sqlite_makes_a_pair_and_postgres_refuses(tmp_path):
    settings = Settings(database=str(tmp_path / "new.db"))
    made = sealing.operator_public_key(None, settings)
    public, private = sealing.key_paths(settings)
    assert public.parent == private.parent == tmp_path / "new.keys"  # not loose beside it
    assert sealing.public_key(public.read_text()) == made
    for path in (public, private):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sealing.operator_public_key(None, settings) == made  # made once, then read
    # Instances sharing a server must seal to one key: none is made up per instance.
    with pytest.raises(sealing.SealingKeyError, match="PETITION_WIDGET_PUBLIC_KEY: required"):
        sealing.operator_public_key(None, Settings(database="postgresql://db.example/petitions"))


def test_export_and_decrypt_refuse_without_or_with_the_wrong_key(tmp_path, database):
    db = database.url
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


async def test_plaintext_database_is_sealed_by_a_command_without_losing_a_row(
    database, server_keys, tmp_path, capsys
):
    db = database.url
    await cli(["campaign", "load", str(resource("campaigns") / "belarus.toml"), "--database", db])
    # Rows as a database from before sealing holds them: plaintext, sealed NULL.
    database.insert(
        "signatures",
        ("campaign", "email_key", "first_name", "last_name", "email", "postal_code", "country",
         "opt_in", "partner", "partner_opt_in", "signed_at"),
        [("belarus", bytes([i]) * 32, f"Oldfirst{i}", f"Oldsurname{i}", f"old{i}@legacy.example",
          "", "CA", True, None, False, "2026-11-01T10:00:00Z") for i in range(30)],
    )  # fmt: skip
    database.add_to_count("belarus", 30)
    assert b"Oldsurname" in database.raw_bytes()  # the search below would find them
    capsys.readouterr()
    await cli(["seal", "--database", db])
    assert "sealed 30 row(s)" in capsys.readouterr().out
    content = database.raw_bytes()
    assert b"Oldsurname" not in content and b"legacy.example" not in content
    out = tmp_path / "all.csv"
    await cli(["export", "belarus", "--kind", "operator", "--private-key", str(server_keys),
               "-o", str(out), "--database", db])  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert sorted(r["last_name"] for r in rows) == sorted(f"Oldsurname{i}" for i in range(30))
    await cli(["campaign", "list", "--database", db])
    assert capsys.readouterr().out.splitlines()[1].split() == ["belarus", "open", "815", "30", "30"]


@pytest.mark.postgres_only(reason="VACUUM FULL keeps row versions an open transaction may see")
async def test_sealing_waits_for_older_transactions_before_it_rewrites_the_table(
    database, server_keys
):
    """A transaction that began before the rows were sealed could still see the plaintext, so
    PostgreSQL's VACUUM FULL would copy it into the new file; the compaction waits for it."""
    import asyncpg

    from tests.databases import POSTGRES_URL

    db = database.url
    await cli(["campaign", "load", str(resource("campaigns") / "belarus.toml"), "--database", db])
    database.insert(
        "signatures",
        ("campaign", "email_key", "first_name", "last_name", "email", "country", "opt_in",
         "signed_at"),
        [("belarus", bytes([i]) * 32, "Oldfirst", f"Oldsurname{i}", f"old{i}@legacy.example",
          "CA", True, "2026-11-01T10:00:00Z") for i in range(5)],
    )  # fmt: skip
    reader = await asyncpg.connect(POSTGRES_URL)
    try:
        transaction = reader.transaction(isolation="repeatable_read")
        await transaction.start()
        # Its snapshot, taken now, would let it read the plaintext rows later (it takes no
        # lock on their table, so nothing else makes the compaction wait for it).
        assert await reader.fetchval("SELECT 1") == 1
        sealing_task = asyncio.create_task(cli(["seal", "--database", db]))
        while database.rows("SELECT count(*) FROM signatures WHERE sealed IS NULL") != [(0,)]:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the compaction is waiting (or, wrongly, done)
        await transaction.rollback()
        await sealing_task
    finally:
        await reader.close()
    assert b"Oldsurname" not in database.raw_bytes()


@pytest.mark.postgres_only(reason="VACUUM FULL keeps row versions an open transaction may see")
async def test_a_transaction_that_outlasts_the_wait_is_reported(database, caplog, monkeypatch):
    import asyncpg

    from tests.databases import POSTGRES_URL
    from widget.store import postgres

    monkeypatch.setattr(postgres, "COMPACT_WAIT_SECONDS", 0.2)
    store = open_store(database.url)
    await store.open()
    reader = await asyncpg.connect(POSTGRES_URL)
    try:
        await store.save_campaign(load_file(resource("campaigns") / "belarus.toml"))
        database.insert(
            "signatures",
            ("campaign", "email_key", "first_name", "last_name", "email", "country", "opt_in",
             "signed_at"),
            [("belarus", bytes([i]) * 32, "Oldfirst", f"Oldsurname{i}", f"old{i}@legacy.example",
              "CA", True, "2026-11-01T10:00:00Z") for i in range(5)],
        )  # fmt: skip
        transaction = reader.transaction(isolation="repeatable_read")
        await transaction.start()
        assert await reader.fetchval("SELECT 1") == 1
        sealer = sealing.Sealer(sealing.public_key(TEST_PUBLIC_KEY))
        with caplog.at_level("WARNING", logger="widget.store.postgres"):
            assert await store.seal_legacy_rows(sealer) == 5
        # (Other test processes' transactions may be counted too.)
        assert "transaction(s) open since before the compaction" in caplog.text
        await transaction.rollback()
        caplog.clear()
        monkeypatch.setattr(postgres, "COMPACT_WAIT_SECONDS", 15.0)
        with caplog.at_level("WARNING", logger="widget.store.postgres"):
            await store.forget_domains()  # any compaction, once it has ended
        assert "open since before" not in caplog.text
        assert b"Oldsurname" not in database.raw_bytes()
    finally:
        await reader.close()
        await store.close()


@pytest.mark.sqlite_only(reason="SQLite's checkpoint and its busy timeout")
async def test_sqlite_compaction_says_when_a_reader_kept_old_pages(database, caplog):
    """A reader on a snapshot from before a seal, still open after the checkpoint's busy
    timeout: the old pages stay in the file until the next checkpoint, and the log says so.
    Once it has ended, the next compaction leaves nothing."""
    import sqlite3

    from widget.store.sqlite import SQLiteStore

    store = SQLiteStore(database.url, timeout=0.2)
    await store.open()
    try:
        await store.save_campaign(load_file(resource("campaigns") / "belarus.toml"))
        database.insert(
            "signatures",
            ("campaign", "email_key", "first_name", "last_name", "email", "country", "opt_in",
             "signed_at"),
            [("belarus", bytes([i]) * 32, "Oldfirst", f"Oldsurname{i}", f"old{i}@legacy.example",
              "CA", True, "2026-11-01T10:00:00Z") for i in range(5)],
        )  # fmt: skip
        reader = sqlite3.connect(database.url, isolation_level=None)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM signatures").fetchone() == (5,)
        sealer = sealing.Sealer(sealing.public_key(TEST_PUBLIC_KEY))
        with caplog.at_level("WARNING", logger="widget.store.sqlite"):
            assert await store.seal_legacy_rows(sealer) == 5
        assert "kept old pages in the database file" in caplog.text
        assert b"Oldsurname" in database.raw_bytes()
        reader.execute("COMMIT")
        reader.close()
        caplog.clear()
        with caplog.at_level("WARNING", logger="widget.store.sqlite"):
            await store.forget_domains()  # any compaction
        assert "kept old pages" not in caplog.text
        assert b"Oldsurname" not in database.raw_bytes()
    finally:
        await store.close()


async def test_purge_keeps_the_counts_and_needs_a_closed_campaign(client, database, capsys):
    for form in SEEDED[:5]:
        await sign(client, form)
    db = database.url
    await client.app.state.service.store.close()
    with pytest.raises(SystemExit, match="only a closed campaign"):
        await cli(["purge", "belarus", "--older-than", "0", "--database", db])
    await cli(["campaign", "set", "belarus", "status", "closed", "--database", db])
    await cli(["purge", "belarus", "--older-than", "0", "--database", db])
    assert "personal data of 5 signature(s)" in capsys.readouterr().out
    assert b"Qwsurname" not in database.raw_bytes()
    store = open_store(db)
    await store.open()
    assert (await store.counts())["belarus"] == 5
    stats = await store.stats("belarus", "")
    assert stats.by_country == [("CA", 5)]
    assert await store.unsealed_count() == 5
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


DOMAIN_KEY = "a-domain-key-of-its-own-" + "d" * 20


async def test_invalidation_by_domain_partner_and_time_uncounts_exactly(
    client_factory, database, server_keys, capsys, monkeypatch
):
    monkeypatch.setenv("PETITION_WIDGET_DOMAIN_KEY", DOMAIN_KEY)  # for the CLI
    async with client_factory(domain_key=DOMAIN_KEY) as client:
        await invalidate_by_domain_partner_and_time(client, database, capsys)


async def invalidate_by_domain_partner_and_time(client, database, capsys):
    await sign(client, signer(1, email="a@flood.example"))
    await sign(client, signer(2, email="b@flood.example"))
    await sign(client, signer(3, partner="bots"))
    await sign(client, signer(4))
    assert await count(client) == 789
    db = database.url
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
    assert database.rows("SELECT count(*) FROM signatures") == [(4,)]  # kept, but not counted


async def test_without_a_domain_key_no_domain_is_kept_and_domain_invalidation_is_off(
    client, database, server_keys, capsys
):
    await sign(client, signer(1, email="a@flood.example"))
    assert database.rows("SELECT domain_key FROM signatures") == [(None,)]
    with pytest.raises(SystemExit, match="invalidation by email domain is off"):
        await cli(["invalidate", "belarus", "--email-domain", "flood.example",
                   "--database", database.url])  # fmt: skip
    assert await count(client) == 786


async def test_forget_domains_clears_every_stored_domain_hash(
    client_factory, database, server_keys, capsys, monkeypatch
):
    async with client_factory(domain_key=DOMAIN_KEY) as client:
        await sign(client, signer(1, email="a@flood.example"))
        await sign(client, signer(2, email="b@flood.example"))
    (key_a,), (key_b,) = database.rows("SELECT domain_key FROM signatures ORDER BY id")
    assert key_a == key_b and len(key_a) == 32  # the same domain groups signers: that is the risk
    await cli(["forget-domains", "--database", database.url])
    assert "cleared the email domain's hash of 2 signature(s)" in capsys.readouterr().out
    assert database.rows("SELECT domain_key FROM signatures") == [(None,), (None,)]
    # On PostgreSQL, VACUUM FULL must keep a dead row version that a transaction open elsewhere
    # in the database (another test run, say) might still see: look at what is stored there.
    stored = database.raw_bytes() if database.kind == "sqlite" else database.snapshot()
    assert key_a not in stored


def test_the_domain_key_must_be_long_and_not_the_secret_key(tmp_path):
    from widget.settings import SettingsError

    with pytest.raises(SettingsError, match="DOMAIN_KEY: at least 32"):
        Settings(database=str(tmp_path / "p.db"), domain_key="short").resolve()
    with pytest.raises(SettingsError, match="DOMAIN_KEY: must differ"):
        Settings(database=str(tmp_path / "p.db"), secret_key=TEST_SECRET,
                 domain_key=TEST_SECRET).resolve()  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rows_sealed_in_one_window_share_its_key_and_the_next_window_has_another():
    clock = Clock()
    sealer = sealing.Sealer(sealing.public_key(TEST_PUBLIC_KEY), clock)
    personal = dict.fromkeys(sealing.PERSONAL_FIELDS, "x")
    head = len(sealing.WINDOWED) + 32

    def window_of(blob: bytes) -> bytes:
        assert blob.startswith(sealing.WINDOWED)
        return blob[:head]

    first = [sealer._seal(sealer._operator, sealing._encode(personal)) for _ in range(3)]
    assert len({window_of(b) for b in first}) == 1
    assert len({b[head : head + 24] for b in first}) == 3  # a fresh nonce per row
    clock.now += sealing.WINDOW_SECONDS
    later = sealer._seal(sealer._operator, sealing._encode(personal))
    assert window_of(later) != window_of(first[0])
    many = [sealer._seal(sealer._operator, b"{}") for _ in range(sealing.WINDOW_ROWS + 1)]
    assert len({window_of(b) for b in [later, *many]}) == 2  # at most WINDOW_ROWS per window
    for blob in [*first, later]:
        assert OPENER.open(blob) == personal
    stranger = sealing.Opener(sealing.private_key(sealing.generate_keypair()[0]))
    with pytest.raises(sealing.SealingKeyError, match="does not open"):
        stranger.open(first[0])
    tampered = first[0][:-1] + bytes([first[0][-1] ^ 1])
    with pytest.raises(sealing.SealingKeyError, match="does not open"):
        OPENER.open(tampered)


def test_rows_sealed_as_sealed_boxes_before_windows_still_open():
    sealer = sealing.Sealer(sealing.public_key(TEST_PUBLIC_KEY))
    personal = {"first_name": "Янка", "last_name": "Купала", "email": "y@x.org", "postal_code": ""}
    box = sealer.seal_personal(personal)
    assert not box.startswith(sealing.WINDOWED) or len(box) == 48 + len(sealing._encode(personal))
    assert OPENER.open(box) == personal


async def test_a_windows_shared_key_is_dropped_when_it_ends_even_with_no_other_signature(
    monkeypatch,
):
    monkeypatch.setattr(sealing, "WINDOW_SECONDS", 0.05)
    sealer = sealing.Sealer(sealing.public_key(TEST_PUBLIC_KEY))
    blob = sealer._seal(sealer._operator, b'{"email": "a@b.org"}')
    (window,) = sealer._windows.values()
    assert window.shared is not None
    for _ in range(100):  # the loop's timer ends it; poll rather than guess a sleep
        if window.shared is None:
            break
        await asyncio.sleep(0.01)
    assert window.shared is None and not sealer._windows
    assert OPENER.open(blob) == {"email": "a@b.org"}  # the operator's key still opens it


async def test_signatures_are_stored_sealed_in_windows_and_the_service_forgets_them_at_stop(
    client, database
):
    for n in range(3):
        await sign(client, signer(n))
    blobs = [blob for (blob,) in database.rows("SELECT sealed FROM signatures ORDER BY id")]
    assert all(blob.startswith(sealing.WINDOWED) for blob in blobs)
    assert [OPENER.open(b)["email"] for b in blobs] == [f"alesia{n}@example.org" for n in range(3)]
    sealer = client.app.state.service.sealer
    sealer.end_windows()
    assert not sealer._windows
