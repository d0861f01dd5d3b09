"""Floods and bots: limits per client and per campaign, on the real app, with clients at
different addresses; and no client address kept anywhere."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import BASE, count, counted_live, make_settings, sign, signer
from tests.databases import Database, shared_redis_url
from widget.app import create_app
from widget.ratelimit import ClientKeys, parse_limits
from widget.settings import Settings, SettingsError

BOT = "203.0.113.77"
READERS = ["198.51.100.1", "198.51.100.2", "2001:db8:1::5"]
REDIS_URL = shared_redis_url(15)
FROM_NETWORK = "Too many signatures from your network"
TOO_BUSY = "Too many people are signing"
START = 785  # the Belarus campaign's counter offset

At = Callable[[str], httpx.AsyncClient]


@pytest.fixture
def network(database: Database) -> Callable[..., contextlib.AbstractAsyncContextManager[At]]:
    """One app with these settings; `at(address)` is an HTTP client from that address."""

    @contextlib.asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[At]:
        app = create_app(make_settings(database, **overrides))
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            await counted_live(app.state.service)

            def at(address: str) -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=app, client=(address, 1234))
                client = httpx.AsyncClient(transport=transport, base_url=BASE)
                stack.push_async_callback(client.aclose)
                return client

            yield at

    return factory


def retry_after(response: httpx.Response) -> int:
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 600
    return seconds


async def test_a_flood_from_one_client_is_limited_while_readers_elsewhere_sign(network):
    async with network(rate_limits="client=5/10 minutes;campaign=1000/minute") as at:
        bot = at(BOT)
        answers = [await sign(bot, signer(n)) for n in range(12)]
        assert [r.status_code for r in answers] == [200] * 5 + [429] * 7
        for refused in answers[5:]:
            retry_after(refused)
            assert FROM_NETWORK in refused.json()["errors"]["form"]
            assert refused.json()["ok"] is False

        page = await sign(bot, signer(99), json=False)
        assert page.status_code == 429
        retry_after(page)
        assert FROM_NETWORK in page.text
        assert 'value="Alesia99"' in page.text  # what the reader typed is kept

        for n, address in enumerate(READERS, start=100):
            assert (await sign(at(address), signer(n))).status_code == 200
        assert await count(at(READERS[0])) == START + 5 + len(READERS)


async def test_junk_counts_against_its_client(network):
    async with network(rate_limits="client=3/10 minutes") as at:
        bot = at(BOT)
        for _ in range(3):
            junk = await bot.post("/c/belarus/sign", content=b"x", headers={"Accept": "*/*"})
            assert junk.status_code == 415
        refused = await sign(bot, signer(1))
        assert refused.status_code == 429
        assert await count(bot) == START


async def test_the_campaign_limit_applies_across_clients(network):
    async with network(rate_limits="client=100/minute;campaign=3/minute") as at:
        # Junk does not use up the campaign's allowance: only valid signatures count there.
        for _ in range(10):
            junk = await sign(at(BOT), signer(1, website="http://spam.example"))
            assert junk.status_code == 422
        answers = [await sign(at(f"198.51.100.{n}"), signer(n)) for n in range(1, 6)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
        retry_after(answers[3])
        assert TOO_BUSY in answers[3].json()["errors"]["form"]
        assert await count(at(BOT)) == START + 3


async def test_a_forged_forwarded_for_does_not_change_who_the_client_is(network):
    async with network(rate_limits="client=3/10 minutes") as at:
        bot = at(BOT)
        statuses = [
            (await sign(bot, signer(n), headers={"X-Forwarded-For": f"192.0.2.{n}"})).status_code
            for n in range(6)
        ]
        assert statuses == [200, 200, 200, 429, 429, 429]
        # Nor can a reader be made to pay for the bot by naming its address.
        framed = await sign(at(READERS[0]), signer(50), headers={"X-Forwarded-For": BOT})
        assert framed.status_code == 200
        assert await count(bot) == START + 4


async def test_off_lets_a_flood_through(network):
    async with network(rate_limits="off") as at:
        bot = at(BOT)
        answers = [await sign(bot, signer(n)) for n in range(35)]  # above the default 30
        assert {r.status_code for r in answers} == {200}
        assert await count(bot) == START + 35


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "client=lots",
        "client=30/fortnight",
        "30/minute",
        "clients=30/minute",
        "client=0/minute",
        "client=1/minute;client=2/minute",
        "client=1/minute,2/hour",
    ],
)
def test_a_bad_rate_limit_spec_is_refused_naming_the_variable(tmp_path, spec):
    with pytest.raises(SettingsError, match="PETITION_WIDGET_RATE_LIMITS"):
        create_app(make_settings(str(tmp_path / "unopened.db"), rate_limits=spec))


def test_rate_limits_come_from_the_environment(tmp_path):
    env = {"PETITION_WIDGET_RATE_LIMITS": "campaign=10/hour"}
    limits = parse_limits(Settings.load(env).rate_limits)
    assert limits is not None and limits.client is None
    assert (limits.campaign.amount, limits.campaign.get_expiry()) == (10, 3600)
    assert parse_limits(Settings().rate_limits) is not None  # the default parses
    assert parse_limits(" OFF ") is None


def test_an_unknown_storage_is_refused_naming_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="PETITION_WIDGET_RATE_LIMIT_STORAGE"):
        unopened = str(tmp_path / "unopened.db")
        create_app(make_settings(unopened, rate_limit_storage="memcached://127.0.0.1:11211"))


def test_client_keys_hide_the_address_and_rotate_daily():
    keys = ClientKeys()
    today, tomorrow = date(2025, 3, 1), date(2025, 3, 2)
    key = keys.key(BOT, today)
    assert BOT not in key and key == keys.key(BOT, today)
    assert keys.key(BOT, tomorrow) != key
    assert keys.key(BOT, today) != key  # yesterday's salt is gone: keys cannot be linked back
    assert ClientKeys().key(BOT, today) != ClientKeys().key(BOT, today)  # salt per process
    # Several instances sharing Redis derive the same day's salt from the secret key.
    shared = ClientKeys("secret-" + "x" * 40)
    assert shared.key(BOT, today) == ClientKeys("secret-" + "x" * 40).key(BOT, today)
    assert shared.key(BOT, tomorrow) != shared.key(BOT, today)
    # An IPv6 client is its /64; IPv4 inside IPv6 is the IPv4 address.
    assert keys.key("2001:db8:1:2::1") == keys.key("2001:db8:1:2:ffff::9")
    assert keys.key("2001:db8:1:2::1") != keys.key("2001:db8:1:3::1")
    assert keys.key("::ffff:" + BOT) == keys.key(BOT)


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError as exc:
        connection.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed under CI=true and is unreachable: {exc}")
        pytest.skip(f"Redis is unreachable at {REDIS_URL}: {exc}")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


async def test_redis_storage_shares_the_limits_between_instances(database, redis_db):
    settings: dict[str, Any] = {
        "rate_limits": "client=3/10 minutes;campaign=1000/minute",
        "rate_limit_storage": REDIS_URL,
    }
    # Two instances of the service on one database, as behind a load balancer.
    first = create_app(make_settings(database, **settings))
    second = create_app(make_settings(database, **settings))
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        transports = [httpx.ASGITransport(app=app, client=(BOT, 1234)) for app in (first, second)]
        async with (
            httpx.AsyncClient(transport=transports[0], base_url=BASE) as on_first,
            httpx.AsyncClient(transport=transports[1], base_url=BASE) as on_second,
        ):
            statuses = [
                (await sign(client, signer(n))).status_code
                for n, client in enumerate([on_first, on_second, on_first, on_second, on_first])
            ]
    assert statuses == [200, 200, 200, 429, 429]
    stored = b" ".join(redis_db.keys("*"))
    assert stored, "the limits were not kept in Redis"
    assert BOT.encode() not in stored


async def test_no_client_address_is_stored_or_logged(network, database, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with network(rate_limits="client=5/10 minutes") as at:
        for n in range(10):
            await sign(at(BOT), signer(n))
        for n, address in enumerate(READERS, start=100):
            await sign(at(address), signer(n), json=False)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    stored = database.raw_bytes() + b"".join(path.read_bytes() for path in files)
    for address in [BOT, *READERS]:
        assert address.encode() not in stored
        assert address.encode("utf-16-le") not in stored
        assert address not in caplog.text
    assert socket.inet_aton(BOT) not in stored


async def test_signing_goes_on_when_the_limit_store_is_down(network, caplog):
    # Nothing listens on port 1: a Redis outage must not stop real readers from signing.
    async with network(rate_limit_storage="redis://127.0.0.1:1/0") as at:
        assert (await sign(at(BOT), signer(1))).status_code == 200
        assert (await sign(at(BOT), signer(2))).status_code == 200
    assert "rate-limit storage unavailable" in caplog.text
    assert caplog.text.count("rate-limit storage unavailable") == 1  # not once per request
    assert BOT not in caplog.text
