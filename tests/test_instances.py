"""Many instances: three server processes behind one public origin, sharing one PostgreSQL
schema, signed through concurrently by hundreds of readers, some with the same address on two
instances at once. The count is exact (every signature received, repeats included), each
address is one signer in the exports, every acknowledged signature is stored, and a form, an
admin session and a partner's link made on one instance work on another.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import OPENER
from tests.databases import counted_live_in
from tests.servers import serving
from widget import exports, operators, sealing
from widget.store import open_store

pytestmark = pytest.mark.postgres_only(reason="several instances share a database server")

INSTANCES = 3
UNIQUE = 240  # distinct addresses
REPEATS = 60  # the same addresses again, on another instance, at the same time
THROUGH_PARTNER = 10  # every tenth signer comes through the partner and opts in to it
PUBLIC = "http://petitions.test"  # the origin the load balancer serves them all under
CACHE_SECONDS = 1.0  # the instances' PETITION_WIDGET_COUNTER_CACHE_SECONDS
OFFSET = 785
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "a long enough password"


@pytest.fixture
def instances(database, tmp_path) -> Iterator[list[str]]:
    """Three `python -m widget serve` processes on one schema; their base URLs."""
    settings = {"public_url": PUBLIC, "rate_limits": "off",
                "counter_cache_seconds": str(CACHE_SECONDS)}  # fmt: skip
    # Started together, on an empty schema: the migrations must take turns.
    with serving(database.url, tmp_path, INSTANCES, **settings) as ports:
        yield [f"http://127.0.0.1:{port}" for port in ports]
    for log in tmp_path.glob("instance-*.log"):
        for secret in ("Zzinstance", "instances.example", "Reader"):
            assert secret not in log.read_text()  # nothing a reader typed reaches a log


def form(n: int, partner: str) -> dict[str, str]:
    """Signer n; n and n + UNIQUE are the same address under different names."""
    fields = {
        "first_name": f"Reader{n}",
        "last_name": f"Zzinstance{n}",
        "email": f"reader{n % UNIQUE}@instances.example",
        "country": "BY",
        "view": "embed",
    }
    if n % THROUGH_PARTNER == 0:
        fields.update(partner=partner, partner_opt_in="1")
    return fields


async def sign_across(
    clients: list[httpx.AsyncClient], n: int, partner: str, gate: asyncio.Semaphore
) -> httpx.Response:
    """Signer n reads the form on one instance and sends it to another."""
    shown, sent = clients[n % INSTANCES], clients[(n + 1 + n // UNIQUE) % INSTANCES]
    async with gate:
        page = await shown.get("/c/belarus/embed", params={"partner": partner})
        token = TOKEN_RE.search(page.text).group(1)
        return await sent.post(
            "/c/belarus/sign",
            data={"token": token, **form(n, partner)},
            headers={"Accept": "application/json", "Origin": PUBLIC},
        )


async def admin_session(client: httpx.AsyncClient) -> tuple[str, str]:
    """Log in on this instance (its client keeps the cookie); the session cookie and the form
    token it carries."""
    page = await client.get("/admin/login")
    response = await client.post(
        "/admin/login",
        data={"csrf": CSRF_RE.search(page.text).group(1), "email": "op@example.org",
              "password": PASSWORD},
        headers={"Origin": PUBLIC},
    )  # fmt: skip
    assert response.status_code == 303
    home = await client.get("/admin")
    return response.cookies["pw_admin"], CSRF_RE.search(home.text).group(1)


async def counts(clients: list[httpx.AsyncClient]) -> list[int]:
    answers = await asyncio.gather(*(c.get("/api/campaigns/belarus") for c in clients))
    return [answer.json()["count"] for answer in answers]


async def test_three_instances_on_one_database(instances, database):
    store = open_store(database.url)
    await store.open()
    try:
        await store.save_operator("op@example.org", operators.hash_password(PASSWORD))
        # Counted live (the shipped campaign is hourly): the instances' counts are checked
        # after the signatures. They reload it with the partner below.
        assert await counted_live_in(store)
    finally:
        await store.close()
    partner_private, partner_public = sealing.generate_keypair()
    # The load balancer passes the public host name on, as nginx does with `Host $host`.
    host = {"Host": PUBLIC.removeprefix("http://")}
    clients = [httpx.AsyncClient(base_url=base, timeout=30, headers=host) for base in instances]
    a, b = clients[:2]
    try:
        # An admin session made on A works on B: B registers the partner.
        cookie, csrf = await admin_session(a)
        registered = await b.post(
            "/admin/partners",
            data={"csrf": csrf, "code": "diaspora", "name": "Diaspora Org",
                  "public_key": partner_public},
            headers={"Cookie": f"pw_admin={cookie}", "Origin": PUBLIC},
        )  # fmt: skip
        assert registered.status_code == 303
        # Every instance hears of the partner within its cache's lifetime.
        await until(lambda: all_show(clients, "Also share my name and email with Diaspora Org"))

        gate = asyncio.Semaphore(48)
        signers = list(range(UNIQUE + REPEATS))
        random.Random(7).shuffle(signers)
        answers = await asyncio.gather(
            *(sign_across(clients, n, "diaspora", gate) for n in signers)
        )
        assert [r.status_code for r in answers] == [200] * len(signers)
        assert all(r.json()["ok"] for r in answers)
        final = OFFSET + UNIQUE + REPEATS  # a repeat counts like a new address
        assert all(OFFSET < r.json()["count"] <= final for r in answers)

        # Every instance reports the same, exact count within its cache's lifetime.
        await until(lambda: counts_are(clients, [final] * INSTANCES))

        # Every acknowledged signature is stored, the repeats as rows of their own.
        rows = database.rows("SELECT sealed FROM signatures")
        emails = sorted(OPENER.open(sealed)["email"] for (sealed,) in rows)
        assert emails == sorted(f"reader{n % UNIQUE}@instances.example" for n in signers)
        assert database.rows("SELECT sum(n) FROM campaign_counts") == [(UNIQUE + REPEATS,)]
        assert database.rows("SELECT count(DISTINCT email_key) FROM signatures") == [(UNIQUE,)]

        # A partner's export link made on A works on B, and only the partner can read it.
        made = await a.post(
            "/admin/campaigns/belarus/partner-link",
            data={"csrf": csrf, "partner": "diaspora"},
            headers={"Origin": PUBLIC},
        )
        link = re.search(r'(http://petitions\.test/c/belarus/partners/[^"<\s]+)', made.text)
        exported = await b.get(link.group(1).replace("&amp;", "&").removeprefix(PUBLIC))
        assert exported.status_code == 200
        assert b"instances.example" not in exported.content
        partner = sealing.Opener(sealing.private_key(partner_private))
        lines = exported.content.decode("utf-8").splitlines(keepends=True)
        opened = csv.reader(io.StringIO("".join(exports.decrypt_csv(lines, partner))))
        opted_in = sorted(row[2] for row in list(opened)[1:])
        assert opted_in == sorted(
            f"reader{n}@instances.example" for n in range(0, UNIQUE, THROUGH_PARTNER)
        )
    finally:
        for client in clients:
            await client.aclose()


async def until(check, seconds: float = 2 * CACHE_SECONDS + 8) -> None:
    """Poll `check` until it holds; the bound is generous, the expectation is one lifetime."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "still not true when the bound ran out"
        await asyncio.sleep(0.1)


async def all_show(clients: list[httpx.AsyncClient], text: str) -> bool:
    pages = await asyncio.gather(
        *(c.get("/c/belarus/embed", params={"partner": "diaspora"}) for c in clients)
    )
    return all(text in page.text for page in pages)


async def counts_are(clients: list[httpx.AsyncClient], expected: list[int]) -> bool:
    return await counts(clients) == expected
