"""The processes `serve` runs freeze their heap and collect their youngest objects less often
once the app has started (widget/heap.py), and answer exactly as before; the test process
itself keeps Python's defaults."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import BASE, TEST_PUBLIC_KEY, TEST_SECRET, make_settings
from widget import server
from widget.app import create_app, from_environment
from widget.cli import serve
from widget.heap import YOUNGEST_THRESHOLD, ServingHeap


@pytest.fixture
def unfrozen():
    threshold = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever this process was given
    yield
    gc.unfreeze()  # what a test froze goes back to the collector
    gc.set_threshold(*threshold)


async def test_the_heap_is_set_for_serving_once_the_app_has_started(database, unfrozen):
    app = ServingHeap(create_app(make_settings(database)))
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: dict[str, Any]) -> None:
        # The start has not been reported yet when the heap is frozen: nothing is frozen
        # before the lifespan says it has started, and everything it made is by then.
        if message["type"] == "lifespan.startup.complete":
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] == YOUNGEST_THRESHOLD
        await outbox.put(message)

    assert gc.get_freeze_count() == 0 and gc.get_threshold()[0] != YOUNGEST_THRESHOLD
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {}}, inbox.get, send))
    try:
        await inbox.put({"type": "lifespan.startup"})
        async with asyncio.timeout(10):
            assert (await outbox.get())["type"] == "lifespan.startup.complete"
        frozen = gc.get_freeze_count()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            counter = await client.get("/api/campaigns/belarus")
            page = await client.get("/c/belarus/embed")
        assert counter.status_code == 200 and counter.json()["count"] == 785
        assert page.status_code == 200 and 'name="token"' in page.text
        # Requests freeze nothing more (frozen objects freed by their count leave the count).
        assert gc.get_freeze_count() <= frozen
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        async with asyncio.timeout(10):
            await lifespan
    assert (await outbox.get())["type"] == "lifespan.shutdown.complete"


def test_every_way_serve_runs_the_app_freezes_it(tmp_path, monkeypatch):
    for name, value in {
        "DATABASE": str(tmp_path / "w.db"),
        "SECRET_KEY": TEST_SECRET,
        "PUBLIC_KEY": TEST_PUBLIC_KEY,
    }.items():
        monkeypatch.setenv(f"PETITION_WIDGET_{name}", value)
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    serve(make_settings(str(tmp_path / "w.db")))  # one uvicorn worker
    assert isinstance(served[0], ServingHeap)
    assert isinstance(from_environment(), ServingHeap)  # each of --workers N
    assert isinstance(server.granian_app(), ServingHeap)  # --server granian
