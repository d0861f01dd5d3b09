"""`petition-widget doctor` names each risk this deployment runs of leaking who signed, with
what to do about it, and says so when there is none."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from tests.conftest import TEST_PUBLIC_KEY, sealed_signature, signer
from widget import sealing
from widget.app import load_default_campaign
from widget.campaigns import load_file
from widget.cli import main
from widget.resources import resource
from widget.settings import Settings, load_or_create_secret
from widget.store import open_store


async def first_start(settings: Settings) -> None:
    """What a first `serve` writes: the keys, then the database."""
    load_or_create_secret(settings)
    sealing.operator_public_key(settings.public_key, settings)
    store = open_store(settings.database)
    await store.open()
    await store.close()


def doctor(settings: Settings, capsys) -> tuple[int, str]:
    args = ("doctor", "--database", settings.database)
    env = {"PETITION_WIDGET_KEYS_DIR": settings.keys_dir,
           "PETITION_WIDGET_PUBLIC_URL": settings.public_url or ""}  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value) if value else patch.delenv(name, raising=False)
        status = command(*args)
    return status, capsys.readouterr().out


def command(*args: str) -> int | str | None:
    """`petition-widget ARGS`, in a thread of its own: the command runs its own event loop,
    and the test's is running."""
    with ThreadPoolExecutor(1) as thread:
        try:
            thread.submit(main, list(args)).result()
        except SystemExit as exc:
            return exc.code
    return 0


async def test_a_quick_start_is_told_each_risk_and_what_to_do(tmp_path, capsys):
    settings = Settings(database=str(tmp_path / "data" / "petition-widget.db"))
    await first_start(settings)
    status, out = doctor(settings, capsys)
    assert status == 1
    assert "the operator's private key is on this server" in out
    assert "inside the database's folder" in out and "PETITION_WIDGET_KEYS_DIR" in out
    assert "PETITION_WIDGET_PUBLIC_URL is not set" in out
    assert "can be read by other users" not in out  # what the service made is owner-only
    assert out.count("what to do:") == 3


async def test_a_careful_deployment_passes(tmp_path, capsys):
    settings = Settings(
        database=str(tmp_path / "data" / "petition-widget.db"),
        keys_dir=str(tmp_path / "keys"),
        public_key=TEST_PUBLIC_KEY,
        public_url="https://petitions.example.org",
    )
    await first_start(settings)
    assert (tmp_path / "keys" / "secret-key").exists()
    assert doctor(settings, capsys) == (0, "no problem found\n")


async def test_readable_files_and_loose_keys_are_found(tmp_path, capsys):
    settings = Settings(
        database=str(tmp_path / "data" / "p.db"),
        keys_dir=str(tmp_path / "keys"),
        public_key=TEST_PUBLIC_KEY,
        public_url="https://petitions.example.org",
    )
    await first_start(settings)
    (tmp_path / "data" / "p.db").chmod(0o644)
    (tmp_path / "data" / "p.operator-private.key").write_text("from an older install\n")
    status, out = doctor(settings, capsys)
    assert status == 1
    assert "p.db can be read by other users of this machine (mode 0o644)" in out
    assert "chmod 600" in out
    assert "p.operator-private.key lie loose beside the database" in out


async def test_a_short_secret_key_is_named(tmp_path, capsys, monkeypatch):
    settings = Settings(
        database=str(tmp_path / "data" / "petition-widget.db"),
        keys_dir=str(tmp_path / "keys"),
        public_key=TEST_PUBLIC_KEY,
        public_url="https://petitions.example.org",
    )
    await first_start(settings)
    monkeypatch.setenv("PETITION_WIDGET_SECRET_KEY", "changeme")
    status, out = doctor(settings, capsys)
    assert status == 1
    assert "1. PETITION_WIDGET_SECRET_KEY has fewer than 32 characters" in out
    assert out.count("what to do:") == 1


async def test_an_open_campaign_with_a_live_count_is_named_with_the_command_that_steps_it(
    tmp_path, capsys
):
    """A live count is one a site that knows its visitors can watch: a deployment whose
    operator made one live is told, and how to publish it hourly again. The Belarus
    campaign ships counted hourly, which finds nothing."""
    settings = Settings(
        database=str(tmp_path / "data" / "petition-widget.db"),
        keys_dir=str(tmp_path / "keys"),
        public_key=TEST_PUBLIC_KEY,
        public_url="https://petitions.example.org",
    )
    await first_start(settings)
    store = open_store(settings.database)
    await store.open()
    try:
        await load_default_campaign(store)
    finally:
        await store.close()
    assert doctor(settings, capsys) == (0, "no problem found\n")
    db = ("--database", settings.database)
    assert command("campaign", "set", "belarus", "count_every_hours", "0", *db) == 0
    capsys.readouterr()
    status, out = doctor(settings, capsys)
    assert status == 1
    assert "1. campaign belarus shows a live public count" in out
    assert "framing it (any site may)" in out
    assert "petition-widget campaign set belarus count_every_hours 1" in out
    assert out.count("what to do:") == 1

    assert command("campaign", "set", "belarus", "count_every_hours", "1", *db) == 0
    capsys.readouterr()
    assert doctor(settings, capsys) == (0, "no problem found\n")
    assert command("campaign", "set", "belarus", "count_every_hours", "0", *db) == 0
    assert command("campaign", "set", "belarus", "status", "closed", *db) == 0
    capsys.readouterr()
    assert doctor(settings, capsys) == (0, "no problem found\n")  # a closed count moves no more


async def test_signatures_that_keep_their_second_are_named_with_the_command_that_cuts_them(
    tmp_path, capsys
):
    """An install older than signatures kept to the hour holds rows to the second: doctor
    names them, and `forget-minutes` leaves nothing to name."""
    settings = Settings(
        database=str(tmp_path / "data" / "petition-widget.db"),
        keys_dir=str(tmp_path / "keys"),
        public_key=TEST_PUBLIC_KEY,
        public_url="https://petitions.example.org",
    )
    await first_start(settings)
    store = open_store(settings.database)
    await store.open()
    try:
        await load_default_campaign(store)
        belarus = load_file(resource("campaigns") / "belarus.toml")
        for n, at in enumerate(["2026-11-24T15:47:12Z", "2026-11-24T16:00:00Z"]):
            signed = sealed_signature(signer(n), belarus)
            await store.add_signature(replace(signed, signed_at=at))
    finally:
        await store.close()
    status, out = doctor(settings, capsys)
    assert status == 1
    assert "1. 1 signature(s) keep the minute and second they were made in" in out
    assert "what to do: petition-widget forget-minutes" in out

    assert command("forget-minutes", "--database", settings.database) == 0
    assert "1 signature(s) now keep only the hour" in capsys.readouterr().out
    assert doctor(settings, capsys) == (0, "no problem found\n")
    assert command("forget-minutes", "--database", settings.database) == 0
    assert "every signature already keeps only the hour" in capsys.readouterr().out
