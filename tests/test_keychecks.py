"""The keys a database's hashes were made with: a start or a command with another key, or a
SQLite install whose keys folder is gone, is refused, and nothing is made or changed; the key
it was written with works again at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import (
    BASE,
    TEST_PUBLIC_KEY,
    TEST_SECRET,
    count,
    counted_live,
    make_settings,
    sign,
    signer,
)
from tests.test_admin import add_operator, log_in
from widget import keychecks, sealing
from widget.app import create_app
from widget.cli import main
from widget.settings import Settings, SettingsError
from widget.store import open_store, postgres, sqlite
from widget.store.postgres_schema import MIGRATIONS as POSTGRES_MIGRATIONS
from widget.store.sqlite_schema import MIGRATIONS as SQLITE_MIGRATIONS

OTHER = "another-secret-key-that-is-long-enough-9876543210"
DOMAIN = "a-domain-key-that-is-long-enough-0123456789-aaaa"
OTHER_DOMAIN = "a-domain-key-that-is-long-enough-0123456789-bbbb"
MISSING = "the secret key this database was written with is missing"
NOT_THE_KEY = "is not the key this database was written with"


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await counted_live(app.state.service)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield client


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert capsys.readouterr().out == ""
    return str(exit_.value.code)


@pytest.mark.sqlite_only(reason="only a SQLite install makes and keeps its own keys folder")
def test_a_lost_keys_folder_is_refused_and_not_made_again(database, tmp_path, monkeypatch, capsys):
    """A database restored without its keys folder: a new secret key would silently break
    every withdrawal code and deleting a signer by address. Refused, until it is back."""
    monkeypatch.delenv("PETITION_WIDGET_SECRET_KEY", raising=False)
    monkeypatch.setenv("PETITION_WIDGET_PUBLIC_KEY", TEST_PUBLIC_KEY)
    monkeypatch.setenv("PETITION_WIDGET_MIN_FILL_SECONDS", "0")
    db = str(database.path)
    monkeypatch.setenv("PETITION_WIDGET_DATABASE", db)
    # A refusal comes before the server: were it to start, the test fails rather than serves.
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("served with the wrong key"))
    first = asyncio.run(keychecks.checked(Settings.load()))  # a first start makes the key
    folder = first.key_folder
    assert (folder / "secret-key").exists()

    async def sign_once() -> str:
        async with running(first) as client:
            return (await sign(client, signer(1))).json()["withdraw_code"]

    code = asyncio.run(sign_once())
    away = shutil.move(folder, tmp_path / "elsewhere")

    for args in (
        ("serve", "--database", db),
        ("signer", "delete", "--email", "alesia1@example.org", "--database", db),
        ("partner", "link", "belarus", "p", "--base", "https://p.example", "--database", db),
    ):
        assert MISSING in refused(capsys, *args)
        assert not folder.exists()  # no new key made
    assert database.rows("SELECT count(*) FROM signatures") == [(1,)]

    # Another key given instead is refused too, for the server and for a command.
    monkeypatch.setenv("PETITION_WIDGET_SECRET_KEY", OTHER)
    assert NOT_THE_KEY in refused(capsys, "serve", "--database", db)
    assert NOT_THE_KEY in refused(capsys, "signer", "delete", "--email", "x@y.org")
    monkeypatch.delenv("PETITION_WIDGET_SECRET_KEY")

    # The folder back: the signer's code works again.
    shutil.move(away, folder)

    async def withdraw() -> tuple[int, str, int]:
        async with running(Settings.load()) as client:
            before = await count(client)
            done = await client.post("/c/belarus/withdraw", data={"code": code, "lang": "en"})
            return done.status_code, done.text, before - await count(client)

    status, text, dropped = asyncio.run(withdraw())
    assert status == 200 and "Your signature has been withdrawn" in text and dropped == 1


async def test_another_secret_key_is_refused_and_changes_nothing(database, client_factory):
    async with client_factory() as client:
        await sign(client, signer(1))
    before = database.snapshot()
    with pytest.raises(SettingsError, match=NOT_THE_KEY):
        async with client_factory(secret_key=OTHER):
            pass
    with pytest.raises(SettingsError, match=NOT_THE_KEY):
        await keychecks.checked(make_settings(database, secret_key=OTHER))
    assert database.snapshot() == before
    assert (await keychecks.checked(make_settings(database))).secret == TEST_SECRET


async def test_instances_started_at_once_with_different_keys_agree_on_one(database):
    """The first to record its key wins; the other is refused, whichever it is."""
    outcomes = await asyncio.gather(
        keychecks.checked(make_settings(database)),
        keychecks.checked(make_settings(database, secret_key=OTHER)),
        return_exceptions=True,
    )
    refusals = [o for o in outcomes if isinstance(o, SettingsError)]
    assert len(refusals) == 1 and NOT_THE_KEY in str(refusals[0])
    assert database.rows("SELECT count(*) FROM key_checks") == [(1,)]


async def test_another_domain_key_is_refused_until_the_old_hashes_are_forgotten(
    database, client_factory
):
    async with client_factory(domain_key=DOMAIN) as client:
        await sign(client, signer(1))
    with pytest.raises(SettingsError, match="DOMAIN_KEY is not the key"):
        async with client_factory(domain_key=OTHER_DOMAIN):
            pass
    async with client_factory() as client:  # dropping the domain key is always allowed
        await sign(client, signer(2))
        await client.app.state.service.store.forget_domains()
    async with client_factory(domain_key=OTHER_DOMAIN) as client:
        await sign(client, signer(3))
    with pytest.raises(SettingsError, match="DOMAIN_KEY is not the key"):
        async with client_factory(domain_key=DOMAIN):
            pass


async def test_a_database_from_before_the_check_records_the_key_it_is_started_with(
    database, monkeypatch
):
    """An upgrade: the hashes already there were made with the key the install has, which
    is recorded at its first start with this version, without a refusal."""
    backend, migrations = {
        "sqlite": (sqlite, SQLITE_MIGRATIONS),
        "postgres": (postgres, POSTGRES_MIGRATIONS),
    }[database.kind]
    older = next(i for i, script in enumerate(migrations) if "TABLE key_checks" in script)
    with monkeypatch.context() as m:
        m.setattr(backend, "MIGRATIONS", migrations[:older])
        store = open_store(database.url)
        await store.backend.open()
        await store.backend.close()
    assert await keychecks.checked(make_settings(database))
    assert database.rows("SELECT name FROM key_checks") == [("secret-key",)]
    with pytest.raises(SettingsError, match=NOT_THE_KEY):
        await keychecks.checked(make_settings(database, secret_key=OTHER))


def test_the_check_value_says_nothing_of_the_key():
    value = keychecks.check_value(TEST_SECRET)
    assert len(value) == 32 and TEST_SECRET.encode() not in value
    assert value != keychecks.check_value(OTHER)


@pytest.mark.sqlite_only(reason="whether the database file is made")
def test_a_bad_setting_is_refused_before_the_database_is_made(database, monkeypatch, capsys):
    monkeypatch.setenv("PETITION_WIDGET_TOKEN_MAX_AGE", "0")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("served with a bad setting"))
    message = refused(capsys, "serve", "--database", str(database.path))
    assert "PETITION_WIDGET_TOKEN_MAX_AGE: must be at least 1" in message
    assert not database.path.exists()


async def test_a_new_public_key_is_noted_and_each_private_key_asked_for(
    database, client_factory, caplog
):
    """Rows sealed before the server was given a new public key open only with the old
    private key: every start says so, and so does the page that opens exports."""
    async with client_factory() as client:
        await sign(client, signer(1))
        await add_operator(client)
        await log_in(client)
        assert "different public keys" not in (await client.get("/admin/decrypt")).text
    assert "public keys" not in caplog.text
    _, other_public = sealing.generate_keypair()
    with caplog.at_level(logging.WARNING, logger="widget.keychecks"):
        async with client_factory(public_key=other_public) as client:
            await log_in(client)
            page = await client.get("/admin/decrypt")
    assert "This server has been given 2 different public keys" in page.text
    assert "this database has been given 2 different operator public keys" in caplog.text
    async with client_factory():  # back to the first key: still two
        pass
    recorded = "SELECT count(*) FROM key_checks WHERE name LIKE 'public-key:%'"
    assert database.rows(recorded) == [(2,)]


async def test_a_short_secret_key_is_refused_for_a_new_database_and_kept_with_a_warning(
    database, caplog
):
    """A short key can be guessed from a copy of the database, and with it every address
    tested: a new database is refused one (a new SQLite file is not even made). A database
    already written with one keeps it, as its hashes cannot move, and every start says so."""
    short = "only-twenty-chars-xy"
    if database.kind == "sqlite":
        with pytest.raises(SettingsError, match="SECRET_KEY: at least 32 characters"):
            await keychecks.checked(make_settings(database, secret_key=short))
        assert not database.path.exists()
    store = open_store(database.url)
    await store.open()
    try:
        with pytest.raises(SettingsError, match="SECRET_KEY: at least 32 characters"):
            await keychecks.resolved(store, make_settings(database, secret_key=short))
        assert await store.key_checks() == {}  # nothing recorded
        # A database written with a short key before keys were checked for length.
        await keychecks.verify(store, make_settings(database, secret_key=short).resolve())
    finally:
        await store.close()
    with caplog.at_level(logging.WARNING, logger="widget.keychecks"):
        settings = await keychecks.checked(make_settings(database, secret_key=short))
    assert settings.secret == short
    assert "SECRET_KEY is shorter than 32 characters" in caplog.text
