"""Which backend a database setting opens, what the PostgreSQL URL may carry, and the storage
fixture's promise: an unreachable PostgreSQL fails the run under CI and skips locally."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from widget.settings import SettingsError
from widget.store import open_store
from widget.store.postgres import PostgresStore, parse_url
from widget.store.sqlite import SQLiteStore

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(
    ("setting", "backend"),
    [
        ("petition-widget.db", SQLiteStore),
        ("sqlite:///data/petition-widget.db", SQLiteStore),
        ("postgresql://postgres@127.0.0.1:5432/test", PostgresStore),
        ("postgres://postgres@db.example/petitions?schema=pw", PostgresStore),
    ],
)
def test_the_setting_chooses_the_backend(setting, backend):
    assert type(open_store(setting)) is backend


def test_sqlite_url_names_the_file():
    assert open_store("sqlite:///data/x.db").path == "data/x.db"


def test_the_schema_is_ours_and_the_rest_goes_to_the_server():
    url, schema = parse_url("postgresql://u:p@h:5432/db?sslmode=require&schema=pw_1")
    assert (url, schema) == ("postgresql://u:p@h:5432/db?sslmode=require", "pw_1")
    assert parse_url("postgresql://h/db") == ("postgresql://h/db", "public")


@pytest.mark.parametrize("schema", ["Upper", "a-b", "1abc", "x;drop", "", "a" * 64])
def test_a_schema_that_would_need_quoting_is_refused_naming_the_variable(schema):
    with pytest.raises(SettingsError, match="PETITION_WIDGET_DATABASE: schema must be"):
        parse_url(f"postgresql://h/db?schema={schema}")


def test_a_pool_of_no_connections_is_refused_naming_the_variable():
    with pytest.raises(SettingsError, match="PETITION_WIDGET_DB_POOL_SIZE"):
        open_store("postgresql://h/db", pool_size=0)


@pytest.mark.parametrize(
    ("ci", "status", "outcome"), [("true", 1, "1 error"), ("", 0, "1 skipped")]
)
def test_an_unreachable_postgres_fails_under_ci_and_skips_otherwise(ci, status, outcome):
    env = {
        **os.environ,
        "CI": ci,
        "PETITION_WIDGET_TEST_POSTGRES": "postgresql://postgres@127.0.0.1:1/test",  # no one
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_store.py::test_closed_store_refuses[postgres]"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (result.returncode, outcome in result.stdout) == (status, True), result.stdout
    assert "PostgreSQL is not reachable at postgresql://postgres@127.0.0.1:1/test" in (
        result.stdout
    )
