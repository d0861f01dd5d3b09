"""The operator's command line: campaign load and list, settings, and the secret key file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from widget.cli import main
from widget.resources import resource
from widget.settings import Settings, SettingsError, load_or_create_secret

BELARUS = resource("campaigns") / "belarus.toml"


def run(capsys, *args: str) -> str:
    main(list(args))
    return capsys.readouterr().out


def test_load_then_list(tmp_path, capsys, database):
    db = database.url
    assert run(capsys, "campaign", "list", "--database", db) == "no campaigns\n"
    assert run(capsys, "campaign", "load", str(BELARUS), "--database", db) == (
        "created campaign belarus\n"
    )
    second = tmp_path / "second.toml"
    second.write_text(
        BELARUS.read_text()
        .replace('slug = "belarus"', 'slug = "second"')
        .replace('status = "open"', 'status = "closed"')
    )
    run(capsys, "campaign", "load", str(second), "--database", db)
    assert run(capsys, "campaign", "load", str(BELARUS), "--database", db) == (
        "updated campaign belarus: no change\n"
    )
    listing = run(capsys, "campaign", "list", "--database", db).splitlines()
    assert listing[0].split() == ["SLUG", "STATUS", "COUNT", "SIGNATURES", "SIGNERS"]
    assert listing[1].split() == ["belarus", "open", "785", "0", "0"]
    assert listing[2].split() == ["second", "closed", "785", "0", "0"]


def test_loading_a_file_says_what_changed_and_what_a_guarded_change_does(
    tmp_path, capsys, database
):
    """A campaign file without `count_every_hours` makes the count live: loading one over the
    hourly Belarus campaign used to say only "updated". It says what changed and, for an act
    the admin would ask the password for, what it does."""
    db = database.url
    run(capsys, "campaign", "load", str(BELARUS), "--database", db)
    old_file = tmp_path / "old.toml"
    old_file.write_text(BELARUS.read_text().replace("count_every_hours = 1\n", ""))
    said = run(capsys, "campaign", "load", str(old_file), "--database", db).splitlines()
    assert said == [
        "updated campaign belarus: count_every_hours: 1 -> None",
        "note: its public count is published more often than before (or live): a site that "
        "knows its visitors sees it move closer to the moment one of them signed. Every "
        "operator sees this change on the admin's front page.",
    ]
    said = run(capsys, "campaign", "set", "belarus", "counter_offset", "800", "--database", db)
    assert said == "updated campaign belarus: counter_offset: 785 -> 800\n"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('slug = "belarus"', 'slug = "Bad Slug"'), "slug: must be"),
        (("counter_offset = 785", "counter_offset = -1"), "counter_offset: must be at least 0"),
        (("counter_offset = 785", 'counter_offset = "785"'), "counter_offset: must be a whole"),
        (('status = "open"', 'status = "paused"'), "status: must be one of open, closed"),
        (('theme_colour = "#1a1a1a"', 'theme_colour = "red"'), "theme_colour: must be a colour"),
        (('allowed_origins = ["*"]', 'allowed_origins = ["amnesty.ca"]'), "allowed_origins:"),
        (
            ('allowed_origins = ["*"]', 'allowed_origins = ["https://a.ca/page"]'),
            "allowed_origins: 'https://a.ca/page' is not an origin",
        ),
        (("ask_postal_code = false", 'ask_postal_code = "no"'), "ask_postal_code: must be true"),
        (('language = "en"', 'language = "de"'), "language: must be one of en, fr, be, ru"),
        (('title = "Protect', 'titel = "Protect'), "titel: is not a campaign field"),
        (('organisation = "Amnesty International Canada"', ""), "organisation: is required"),
        (("# goal = 1000", "goal = 0"), "goal: must be at least 1"),
        (("# goal = 1000", "counter_minimum = -5"), "counter_minimum: must be at least 0"),
        (("# goal = 1000", "counter_minimum = 1.5"), "counter_minimum: must be a whole number"),
        (('slug = "belarus"', 'slug = "belarus'), "file:"),
        (("[translations.fr]", "[translations.de]"), "translations.de: is not a language"),
        (("[translations.fr]", "[translations.en]"), "translations.en: is the campaign's own"),
        (("[translations.ru]", '[translations.ru]\nslug = "x"'), "translations.ru.slug: is not a"),
        (
            ('title = "Защитите мирных протестующих в Беларуси"', 'title = "' + "Ж" * 201 + '"'),
            "translations.ru.title: must be at most 200 characters (it has 201)",
        ),
        (('call_to_action = "Падпішыце', 'call_to_action = 5 # "'), "translations.be.call_to"),
        (
            ('"Veiller à ce que les droits', '"", "Veiller à ce que les droits'),
            "translations.fr.demands",
        ),
    ],
)
def test_invalid_file_names_the_field_and_changes_nothing(
    tmp_path, capsys, database, change, message
):
    db = database.url
    run(capsys, "campaign", "load", str(BELARUS), "--database", db)
    before = database.snapshot()
    bad = tmp_path / "bad.toml"
    old, new = change
    assert old in BELARUS.read_text()
    bad.write_text(BELARUS.read_text().replace(old, new))
    with pytest.raises(SystemExit) as exit_info:
        main(["campaign", "load", str(bad), "--database", db])
    assert message in str(exit_info.value)
    assert database.snapshot() == before
    listing = run(capsys, "campaign", "list", "--database", db).splitlines()
    assert listing[1].split() == ["belarus", "open", "785", "0", "0"]


def test_missing_file(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["campaign", "load", str(tmp_path / "nope.toml"), "--database", str(tmp_path / "d")])
    assert "cannot read" in str(exit_info.value)


def test_python_dash_m_works_from_any_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "widget", "campaign", "list", "--database", "here.db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "no campaigns\n"
    assert (tmp_path / "here.db").exists()


def test_a_database_that_cannot_be_opened_is_named_with_the_reason_and_left_as_it_was(
    tmp_path, monkeypatch
):
    """A wrong path (a text file, a folder) or an unreachable server: one line that names the
    database and says why, no traceback, an exit (the connection's thread does not hold the
    process), and the file not touched; a password in the URL is never printed."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    notes.chmod(0o644)

    def refused(database: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "widget", "campaign", "list", "--database", database],
            cwd=tmp_path, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        return result.stderr.strip()

    assert refused(str(notes)) == (
        f"petition-widget: cannot open the database {notes}: it is not a SQLite database; "
        "nothing was changed"
    )
    assert notes.read_text() == "not a database\n"
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert refused(str(tmp_path)) == (
        f"petition-widget: cannot open the database {tmp_path}: Is a directory"
    )
    unreachable = refused("postgresql://someone:hunter2secret@127.0.0.1:1/petitions")
    assert unreachable.startswith(
        "petition-widget: cannot open the database 127.0.0.1:1/petitions: "
    ), unreachable
    assert "hunter2secret" not in unreachable
    # serve says the same before anything starts.
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    with pytest.raises(SystemExit, match="it is not a SQLite database"):
        main(["serve", "--database", str(notes)])


def test_settings_come_from_the_environment_and_flags():
    env = {"PETITION_WIDGET_PORT": "9001", "PETITION_WIDGET_MIN_FILL_SECONDS": "3.5"}
    settings = Settings.load(env, host="0.0.0.0", port=None)
    assert (settings.host, settings.port, settings.min_fill_seconds) == ("0.0.0.0", 9001, 3.5)
    assert Settings.load(env, port="9002").port == 9002
    with pytest.raises(SettingsError, match="PETITION_WIDGET_PORT"):
        Settings.load({"PETITION_WIDGET_PORT": "eighty"})
    with pytest.raises(SettingsError, match="PETITION_WIDGET_ACCESS_LOG"):
        Settings.load({"PETITION_WIDGET_ACCESS_LOG": "maybe"})


def test_secret_key_is_generated_once_owner_only_in_a_folder_of_its_own(tmp_path):
    settings = Settings(database=str(tmp_path / "data" / "petition-widget.db"))
    first = load_or_create_secret(settings)
    assert settings.secret_file == tmp_path / "data" / "petition-widget.keys" / "secret-key"
    assert stat.S_IMODE(os.stat(settings.secret_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(settings.secret_file.parent).st_mode) == 0o700
    assert len(first) >= 32
    assert load_or_create_secret(settings) == first
    assert settings.resolve().secret_key == first
    elsewhere = Settings(database=settings.database, keys_dir=str(tmp_path / "vault"))
    assert elsewhere.secret_file == tmp_path / "vault" / "secret-key"


def test_an_older_install_keeps_its_secret_key_beside_the_database(tmp_path):
    """Installs from before the keys folder keep working with the key they made."""
    database = tmp_path / "petition-widget.db"
    legacy = tmp_path / "petition-widget.secret-key"
    legacy.write_text("an-older-install-key-" + "y" * 30 + "\n")
    settings = Settings(database=str(database))
    assert settings.secret_file == legacy
    assert settings.resolve().secret_key == "an-older-install-key-" + "y" * 30
    assert not (tmp_path / "petition-widget.keys").exists()  # no second key made


def test_secret_key_from_the_environment_is_used_and_no_file_written(tmp_path):
    env = {
        "PETITION_WIDGET_DATABASE": str(tmp_path / "p.db"),
        "PETITION_WIDGET_SECRET_KEY": "from-the-environment-" + "x" * 30,
    }
    settings = Settings.load(env).resolve()
    assert settings.secret_key.startswith("from-the-environment-")
    assert not settings.secret_file.exists()


def test_postgres_needs_the_secret_key_given_not_made():
    # A key made by each instance would let one address sign once per instance.
    settings = Settings(database="postgresql://db.example/petitions?schema=pw")
    with pytest.raises(SettingsError, match="PETITION_WIDGET_SECRET_KEY: required with"):
        settings.resolve()
    given = Settings(database=settings.database, secret_key="k" * 40)
    assert given.resolve().secret_key == "k" * 40


def test_empty_secret_file_is_refused(tmp_path):
    settings = Settings(database=str(tmp_path / "p.db"))
    settings.secret_file.parent.mkdir()
    settings.secret_file.write_text("\n")
    with pytest.raises(SettingsError, match="too short"):
        settings.resolve()


def test_every_setting_is_documented_in_the_readme():
    from dataclasses import fields

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for setting in fields(Settings):
        assert f"PETITION_WIDGET_{setting.name.upper()}" in readme, setting.name


def test_settings_command_lists_every_variable(capsys):
    out = run(capsys, "settings")
    assert "PETITION_WIDGET_SECRET_KEY" in out
    assert "PETITION_WIDGET_MIN_FILL_SECONDS" in out


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PETITION_WIDGET_TOKEN_MAX_AGE", "0", "TOKEN_MAX_AGE: must be at least 1"),
        ("PETITION_WIDGET_MIN_FILL_SECONDS", "-1", "MIN_FILL_SECONDS: must not be negative"),
        ("PETITION_WIDGET_SQLITE_SYNCHRONOUS", "OFF", "SQLITE_SYNCHRONOUS: must be one of"),
        ("PETITION_WIDGET_RATE_LIMITS", "client=lots", "PETITION_WIDGET_RATE_LIMITS"),
        ("PETITION_WIDGET_PUBLIC_URL", "petitions.example.org", "PUBLIC_URL: expected https"),
        ("PETITION_WIDGET_DOMAIN_KEY", "short", "DOMAIN_KEY: at least 32"),
        ("PETITION_WIDGET_PORT", "99999", "PORT: must be 1 to 65535, not 99999"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_variable(tmp_path, variable, value, message):
    settings = Settings.load({variable: value, "PETITION_WIDGET_DATABASE": str(tmp_path / "p.db")})
    with pytest.raises(SettingsError, match=message):
        settings.resolve()
    assert not (tmp_path / "p.keys").exists()  # nothing made before the settings are right
