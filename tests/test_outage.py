"""While the database cannot answer, readers keep reading what the process knows and signing
says "try again", never a 500; /readyz follows whether signatures can be stored, and all of
it recovers without a restart. (Real outages of a PostgreSQL server of the tests' own are
issue 15's fault tests; here the store's connections fail on each backend.)"""

from __future__ import annotations

import contextlib

from tests.conftest import count, sign, signer
from widget.store import StoreError


@contextlib.contextmanager
def reads_fail(store):
    """Every read of the store fails as a lost connection would, until the block ends."""

    @contextlib.asynccontextmanager
    async def broken():
        raise StoreError("the database does not answer")
        yield  # pragma: no cover - a generator for asynccontextmanager

    original = store.backend.read
    store.backend.read = broken
    try:
        yield
    finally:
        store.backend.read = original


async def test_readers_keep_reading_during_an_outage_and_it_recovers(client):
    service = client.app.state.service
    await sign(client, signer(1))
    with reads_fail(service.store):
        # Make both caches due, so that each request would go to the database.
        service.campaigns._checked_at = float("-inf")
        service.counter._read_at = float("-inf")
        for path in ("/c/belarus/embed", "/c/belarus", "/c/belarus/counter"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "786 people have taken action" in response.text
        assert (await client.get("/api/campaigns/belarus")).json()["count"] == 786
        assert (await client.get("/readyz")).status_code == 503
    service.counter._read_at = float("-inf")
    assert (await client.get("/readyz")).status_code == 200
    await sign(client, signer(2))
    assert await count(client) == 787


async def test_a_request_that_needs_the_database_gets_try_again_not_500(client):
    service = client.app.state.service
    with reads_fail(service.store):
        service.campaigns._checked_at = float("-inf")
        response = await client.get("/c/no-such-campaign")  # known campaigns only: 404
        assert response.status_code == 404
        page = await client.get("/admin/campaigns/belarus", follow_redirects=False)
        assert page.status_code in (303, 503)  # a login first; never a 500


async def test_readyz_is_503_while_signatures_cannot_be_stored(client, database):
    assert (await client.get("/readyz")).status_code == 200
    with database.writes_refused():
        refused = await sign(client, signer(1))
        assert refused.status_code == 503
        assert "try again" in refused.json()["errors"]["form"]
        assert (await client.get("/readyz")).status_code == 503
    assert (await client.get("/readyz")).status_code == 503  # until a batch succeeds
    assert (await sign(client, signer(2))).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
