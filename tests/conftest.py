"""Fixtures: the real app on a real database, SQLite in a temporary folder or a schema of its
own in PostgreSQL. Every test that uses the database runs once on each (see `database`)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import (
    BACKENDS,
    POSTGRES_URL,
    Database,
    PostgresDatabase,
    SQLiteDatabase,
    counted_live_in,
    postgres_unreachable,
    without_password,
)
from widget import sealing
from widget.app import create_app
from widget.campaigns import Campaign
from widget.settings import Settings
from widget.signing import accept

BASE = "http://testserver"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
# The operator's key pair for tests: the app seals to the public half, tests open with both.
TEST_PRIVATE_KEY, TEST_PUBLIC_KEY = sealing.generate_keypair()
OPENER = sealing.Opener(sealing.private_key(TEST_PRIVATE_KEY))
SEALER = sealing.Sealer(sealing.public_key(TEST_PUBLIC_KEY))

ClientFactory = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests hash operators' passwords at a low scrypt cost: they test who may log
    in, not how long a guess takes. Each hash records its own cost, so checks stay exact; the
    servers that tests start as processes use the real cost."""
    from widget import operators

    monkeypatch.setattr(operators, "_N", 2**8)


def skipped_under_ci(config: pytest.Config) -> int:
    """How many tests were skipped, when CI=true forbids it (else 0)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    return skipped if os.environ.get("CI") == "true" else 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test fails the run: CI must run every test it reports."""
    if skipped_under_ci(session.config) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if skipped := skipped_under_ci(config):
        terminalreporter.write_line(f"CI=true: {skipped} skipped; every test must run", red=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the database, directly or through the app, runs on each backend,
    unless it is marked sqlite_only or postgres_only with the reason."""
    if "database" not in metafunc.fixturenames:
        return
    backends = list(BACKENDS)
    for backend in BACKENDS:
        marker = metafunc.definition.get_closest_marker(f"{backend}_only")
        if marker is None:
            continue
        if not marker.kwargs.get("reason"):
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: {marker.name} needs a reason")
        backends = [backend]
    metafunc.parametrize("database", backends, indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The test's own database: a SQLite file in tmp_path, or a PostgreSQL schema that is
    dropped afterwards. PostgreSQL being unreachable skips the test, and fails it under CI."""
    if request.param == "sqlite":
        yield SQLiteDatabase(tmp_path / "petition-widget.db")
        return
    reason = postgres_unreachable()
    if reason is not None:
        message = f"PostgreSQL is not reachable at {without_password(POSTGRES_URL)} ({reason})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI=true the PostgreSQL tests must run")
        pytest.skip(f"{message}; start it or set PETITION_WIDGET_TEST_POSTGRES")
    db = PostgresDatabase()
    try:
        yield db
    finally:
        db.drop()


def make_settings(database: Database | str, **overrides: Any) -> Settings:
    """Test settings on a test database (or a path, for an app that is never started)."""
    values: dict[str, Any] = {
        "database": database if isinstance(database, str) else database.url,
        "secret_key": TEST_SECRET,
        "min_fill_seconds": 0.0,
        "public_key": TEST_PUBLIC_KEY,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def client_factory(database: Database) -> ClientFactory:
    """Build the app with settings overrides, run its lifespan, and give an HTTP client.
    The shipped campaign publishes its count hourly; tests see it live (every signature
    counted at once) unless they pass `live=False`: what they check is what is counted, and
    tests/test_published_count.py checks the steps."""

    @contextlib.asynccontextmanager
    async def factory(live: bool = True, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(database, **overrides))
        async with app.router.lifespan_context(app):
            if live:
                await counted_live(app.state.service)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return factory


async def counted_live(service: Any, slug: str = "belarus") -> None:
    """A running app's campaign counted live (`counted_live_in`), known to the app at once."""
    if await counted_live_in(service.store, slug):
        await service.campaigns.reload(force=True)


@pytest.fixture
async def client(client_factory: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with client_factory() as client:
        yield client


async def fresh_token(client: httpx.AsyncClient, slug: str = "belarus") -> str:
    page = await client.get(f"/c/{slug}/embed")
    match = TOKEN_RE.search(page.text)
    assert match, "no token in the form"
    return match.group(1)


def signer(n: int = 1, **fields: str) -> dict[str, str]:
    form = {
        "first_name": f"Alesia{n}",
        "last_name": f"Kavalchuk{n}",
        "email": f"alesia{n}@example.org",
        "country": "CA",
        "lang": "en",
        "view": "embed",
    }
    form.update(fields)
    return form


async def sign(
    client: httpx.AsyncClient,
    form: dict[str, str],
    slug: str = "belarus",
    json: bool = True,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    data = {"token": token if token is not None else await fresh_token(client, slug), **form}
    sent = {"Accept": "application/json"} if json else {}
    sent.update(headers or {})
    return await client.post(f"/c/{slug}/sign", data=data, headers=sent)


async def count(client: httpx.AsyncClient, slug: str = "belarus") -> int:
    response = await client.get(f"/api/campaigns/{slug}")
    return response.json()["count"]


def sealed_signature(form: dict[str, str], campaign: Campaign, secret: str = TEST_SECRET):
    """A valid form, accepted and sealed as the sign handler would store it."""
    signature, errors = accept(form, campaign, secret)
    assert not errors, errors
    return SEALER.seal(signature)
