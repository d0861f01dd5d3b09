"""A bounded exposure window: a campaign closes itself at `closes_at` (no restart), and the
personal data of its signatures is purged `purge_after_days` after that, by the service itself,
audited, counts kept. On each backend, through the real app."""

from __future__ import annotations

import asyncio
import time
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import count, sign, signer
from tests.test_admin import NEW_CAMPAIGN, add_operator, log_in, post
from widget import campaigns, closing, housekeeping
from widget.campaigns import CampaignError
from widget.housekeeping import Housekeeping

BASE = {"slug": "x", "organisation": "Org", "title": "T"}


def stamp(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime(closing.STAMP)


def test_a_closing_time_is_read_with_its_zone_and_kept_in_utc():
    toml = tomllib.loads("closes_at = 2027-01-31T23:59:00-05:00\npurge_after_days = 30")
    campaign = campaigns.parse({**BASE, **toml})
    assert campaign.closes_at == "2027-02-01T04:59:00Z"
    assert campaign.purge_at == "2027-03-03T04:59:00Z"
    assert campaigns.parse({**BASE, "closes_at": "2027-01-31T23:59:00Z"}).closes_at == (
        "2027-01-31T23:59:00Z"
    )
    # It survives the round trip through the store and `campaign dump`.
    assert campaigns.parse(campaign.to_dict()) == campaign
    assert "closes_at" not in campaigns.parse(BASE).to_dict()


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"closes_at": "2027-01-31T23:59:00"}, "closes_at", "needs a time zone"),
        ({"closes_at": "next friday"}, "closes_at", "must be a date and time like"),
        ({"closes_at": tomllib.loads("d = 2027-01-31")["d"]}, "closes_at", "a date without a time"),
        ({"closes_at": 5}, "closes_at", "not a date and time"),
        ({"purge_after_days": 3}, "purge_after_days", "needs closes_at"),
        ({"closes_at": "2027-01-31T23:59:00Z", "purge_after_days": -1}, "purge_after_days",
         "at least 0"),
        ({"closes_at": "2027-01-31T23:59:00Z", "purge_after_days": 10**6}, "purge_after_days",
         "at most"),
    ],
)  # fmt: skip
def test_a_bad_schedule_names_its_field(data, field, says):
    with pytest.raises(CampaignError) as raised:
        campaigns.parse({**BASE, **data})
    assert raised.value.field == field and says in raised.value.problem


async def set_schedule(client, **changes) -> None:
    service = client.app.state.service
    campaign = await service.campaigns.get("belarus")
    await service.store.save_campaign(replace(campaign, **changes))
    await service.campaigns.reload(force=True)


async def test_a_campaign_closes_itself_at_its_closing_time_without_a_restart(client):
    await set_schedule(client, closes_at=stamp(2))
    assert (await sign(client, signer(1))).status_code == 200
    assert (await client.get("/api/campaigns/belarus")).json()["status"] == "open"
    deadline = time.monotonic() + 5
    while (await client.get("/api/campaigns/belarus")).json()["status"] == "open":
        assert time.monotonic() < deadline, "still open 3 s after its closing time"
        await asyncio.sleep(0.05)
    refused = await sign(client, signer(2), token=client.app.state.service.tokens.issue("belarus"))
    assert refused.status_code == 403
    assert "This petition is closed" in refused.json()["errors"]["form"]
    assert "This petition is closed" in (await client.get("/c/belarus/embed")).text
    assert (await client.get("/api/campaigns/belarus")).json()["status"] == "closed"
    assert await count(client) == 786


async def test_the_service_closes_and_purges_by_itself_and_audits_both(client, database):
    for n in range(3):
        await sign(client, signer(n))
    before = await count(client)
    service = client.app.state.service
    await set_schedule(client, closes_at=stamp(-1), purge_after_days=0)
    reloads = []

    async def reload() -> None:
        reloads.append(1)
        await service.campaigns.reload(force=True)

    chores = Housekeeping(service.store, reload)
    await chores.round()
    stored = {c.slug: c for c, _ in await service.store.campaigns()}["belarus"]
    assert stored.status == "closed" and reloads == [1]
    left = database.rows(
        "SELECT count(*) FROM signatures WHERE sealed IS NOT NULL OR partner_sealed IS NOT NULL"
    )
    assert left == [(0,)]
    assert await count(client) == before  # counts are kept
    actions = [(e.actor, e.action) for e in await service.store.audit_log()]
    assert ("service", "campaign.close") in actions and ("service", "purge") in actions

    # A signature that was in flight at the closing time is purged by the next round; then
    # rounds find nothing to do and write nothing.
    database.execute("UPDATE signatures SET sealed = ? WHERE id = (SELECT min(id) FROM signatures)",
                     b"late")  # fmt: skip
    await chores.round()
    assert database.rows("SELECT count(*) FROM signatures WHERE sealed IS NOT NULL") == [(0,)]
    entries = len(await service.store.audit_log())
    await chores.round()
    await chores.round()
    assert len(await service.store.audit_log()) == entries and reloads == [1]


async def test_nothing_is_purged_before_its_time(client, database):
    await sign(client, signer(1))
    await set_schedule(client, closes_at=stamp(-60), purge_after_days=1)
    await Housekeeping(client.app.state.service.store, lambda: asyncio.sleep(0)).round()
    assert database.rows("SELECT count(*) FROM signatures WHERE sealed IS NOT NULL") == [(1,)]


async def test_the_running_service_closes_and_purges_shortly_after_closing(
    client_factory, database, monkeypatch
):
    monkeypatch.setattr(housekeeping, "INTERVAL", 0.2)
    async with client_factory() as client:
        await set_schedule(client, closes_at=stamp(1.5), purge_after_days=0)
        assert (await sign(client, signer(1))).status_code == 200
        for _ in range(50):
            await asyncio.sleep(0.1)
            sealed = database.rows("SELECT count(*) FROM signatures WHERE sealed IS NOT NULL")
            if sealed == [(0,)]:
                break
        assert sealed == [(0,)]
        token = client.app.state.service.tokens.issue("belarus")
        assert (await sign(client, signer(2), token=token)).status_code == 403
        assert await count(client) == 786


async def test_the_admin_sets_and_shows_the_schedule(client):
    await add_operator(client)
    await log_in(client)
    bad = await post(client, "/admin/campaigns/belarus", {**NEW_CAMPAIGN, "closes_at": "soon"})
    assert bad.status_code == 422 and 'id="e-closes_at"' in bad.text
    good = await post(
        client, "/admin/campaigns/belarus",
        {**NEW_CAMPAIGN, "closes_at": "2099-01-31T23:59:00+01:00", "purge_after_days": "30"},
    )  # fmt: skip
    assert good.status_code == 303
    page = (await client.get("/admin/campaigns/belarus")).text
    assert "Closes by itself on <strong>2099-01-31 22:59 UTC" in page
    assert "purged by itself on <strong>2099-03-02 22:59 UTC" in page
    assert 'name="closes_at" value="2099-01-31T22:59:00Z"' in page
    assert 'name="purge_after_days" value="30"' in page
    audit = (await client.get("/admin/audit")).text
    assert "closes_at: None -&gt; &#39;2099-01-31T22:59:00Z&#39;" in audit
    assert "purge_after_days: None -&gt; 30" in audit


async def test_the_edit_form_keeps_hold_for_review_as_stored(client):
    """Saving the form unchanged must not turn holding off (it once did: the box came unticked)."""
    await add_operator(client)
    await log_in(client)
    await set_schedule(client, hold_for_review=True)
    page = (await client.get("/admin/campaigns/belarus")).text
    assert 'name="hold_for_review" type="checkbox" value="1" checked' in page
