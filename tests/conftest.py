"""Fixtures: the real app on a real SQLite database in a temporary folder."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

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


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": str(tmp_path / "petition-widget.db"),
        "secret_key": TEST_SECRET,
        "min_fill_seconds": 0.0,
        "public_key": TEST_PUBLIC_KEY,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def client_factory(tmp_path: Path) -> ClientFactory:
    """Build the app with settings overrides, run its lifespan, and give an HTTP client."""

    @contextlib.asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(tmp_path, **overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return factory


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
