"""A public count published in steps (a campaign's `count_every_hours`): a site that knows its
visitors and watches the count must not see it rise by one while a visitor of its own was there.
Readers, everywhere the count is shown and on every instance, see the count as it was when the
period began; it moves once a period, by everyone who signed in it; and the moment it is taken
is the period's, never a reader's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from tests.conftest import count, fresh_token, sign, signer
from tests.test_admin import HIDDEN_RE, PASSWORD, add_operator, log_in
from tests.test_operator_accounts import form_post, stale
from widget import operations
from widget.campaigns import CampaignError, load_file, parse
from widget.counter import Counter, step_of
from widget.resources import resource
from widget.store import StoreError

OFFSET = 785
HOUR = 3600
# 14:20 UTC on 7 December 2099: twenty minutes into an hour, and after any period an app
# started by a test publishes by the real clock (the shipped campaign is counted hourly).
TWENTY_PAST = 4_100_335_200.0 + 20 * 60


def test_periods_start_at_whole_hours_of_utc():
    assert step_of(TWENTY_PAST, 1) == TWENTY_PAST - 20 * 60
    assert step_of(TWENTY_PAST, 24) % (24 * HOUR) == 0  # midnight UTC
    assert step_of(TWENTY_PAST, 6) % (6 * HOUR) == 0
    assert step_of(TWENTY_PAST + 40 * 60, 1) == step_of(TWENTY_PAST, 1) + HOUR


@pytest.mark.parametrize("hours", [0, 1, 2, 3, 4, 6, 8, 12, 24, 48, 168])
def test_a_period_that_divides_a_day_or_is_whole_days_is_taken(hours):
    campaign = parse({"slug": "s", "organisation": "O", "title": "T", "count_every_hours": hours})
    assert campaign.count_every_hours == hours
    stored = campaign.to_dict()
    assert ("count_every_hours" in stored) == bool(hours)  # files of live campaigns unchanged
    assert parse(stored).count_every_hours == hours


@pytest.mark.parametrize(
    ("value", "problem"),
    [(5, "must divide 24"), (36, "must divide 24"), (169, "at most 168"), (-1, "at least 0"),
     ("1", "whole number"), (1.5, "whole number"), (True, "whole number")],
)  # fmt: skip
def test_any_other_period_is_refused_with_the_reason(value, problem):
    with pytest.raises(CampaignError, match=problem) as refused:
        parse({"slug": "s", "organisation": "O", "title": "T", "count_every_hours": value})
    assert refused.value.field == "count_every_hours"


class Published:
    """What Store.published_count does, for one campaign: the first asker in a step takes
    the count."""

    def __init__(self) -> None:
        self.live = 0
        self.steps: list[int] = []
        self.row: tuple[int, int] | None = None
        self.failing = False

    async def __call__(self, slug: str, step: int) -> int:
        if self.failing:
            raise StoreError("the database does not answer")
        self.steps.append(step)
        if self.row is None or self.row[0] < step:
            self.row = (step, self.live)
        return self.row[1]


async def no_counts() -> dict[str, int]:
    return {}


def hourly():
    campaign = load_file(resource("campaigns") / "belarus.toml")
    return replace(campaign, count_every_hours=1)


async def test_the_count_moves_only_when_a_period_begins():
    published = Published()
    now = [TWENTY_PAST]
    counter = Counter(no_counts, lifetime=2.0, read_published=published)
    counter.wall = lambda: now[0]
    campaign = hourly()
    assert await counter.public(campaign) == OFFSET
    for minute in range(21, 60):
        published.live += 1  # a signature every minute
        now[0] = TWENTY_PAST - 20 * 60 + minute * 60
        assert await counter.public(campaign) == OFFSET
    now[0] = step_of(TWENTY_PAST, 1) + HOUR  # the next hour begins
    assert await counter.public(campaign) == OFFSET + 39
    assert len(published.steps) == 2  # once a period, not once a request


async def test_a_database_that_does_not_answer_keeps_the_last_published_count():
    published = Published()
    published.live = 10
    now = [TWENTY_PAST]
    clock = [0.0]
    counter = Counter(no_counts, lifetime=2.0, clock=lambda: clock[0], read_published=published)
    counter.wall = lambda: now[0]
    campaign = hourly()
    assert await counter.public(campaign) == OFFSET + 10
    published.failing, published.live = True, 20
    now[0] += HOUR
    assert await counter.public(campaign) == OFFSET + 10  # never the live count
    published.failing = False
    clock[0] = 1.0  # asked again only after a lifetime, not on every request
    assert await counter.public(campaign) == OFFSET + 10
    clock[0] = 2.0
    assert await counter.public(campaign) == OFFSET + 20


async def test_the_count_is_taken_as_the_period_begins_not_when_a_reader_asks():
    """Were the count taken when the first reader of a period asks, a site that is the
    campaign's only reader could ask late in one period and again as the next begins: two
    counts moments apart. Every instance takes it as the period begins."""
    published = Published()
    start = time.monotonic()
    boundary = step_of(TWENTY_PAST, 1) + HOUR
    counter = Counter(no_counts, lifetime=2.0, read_published=published)
    counter.wall = lambda: boundary - 0.3 + (time.monotonic() - start)
    task = asyncio.create_task(counter.publish_on_time(lambda: [hourly()]))
    try:
        await asyncio.sleep(0.1)
        assert published.steps == [boundary - HOUR]  # at start: the period under way
        published.live = 7  # signed late in the hour: not read by anyone
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(published.steps) == 2:
                break
        assert published.steps == [boundary - HOUR, boundary]
        assert published.row == (boundary, 7)
    finally:
        task.cancel()


async def test_every_reader_and_every_instance_sees_the_count_of_the_period(client_factory):
    """Sign three times during an hour on one instance: nothing any reader can load on either
    instance moves (not the counter API, the iframe, the counter, the hosted page, the card or
    the signer's own answer) until the next hour begins; then all show the three."""
    async with client_factory() as first, client_factory() as second:
        now = [TWENTY_PAST]
        for client in (first, second):
            client.app.state.service.counter.wall = lambda: now[0]
        store = first.app.state.service.store
        belarus = await operations.campaign(store, "belarus")
        await operations.save_campaign(store, "test", replace(belarus, count_every_hours=1))
        for client in (first, second):
            await client.app.state.service.campaigns.reload(force=True)

        assert (await count(first), await count(second)) == (OFFSET, OFFSET)
        answers = [(await sign(first, signer(n))).json() for n in range(3)]
        assert [a["count"] for a in answers] == [OFFSET] * 3
        assert {a["count_text"] for a in answers} == {"785 people have taken action"}
        await first.app.state.service.counter.refresh()  # the live count has the three
        assert await first.app.state.service.counter.signatures("belarus") == 3

        now[0] += 30 * 60  # ten to three
        pages = ["/c/belarus/embed", "/c/belarus/counter", "/c/belarus", "/c/belarus/card"]
        for client in (first, second):
            assert await count(client) == OFFSET
            for path in pages:
                page = (await client.get(path + "?lang=en")).text
                assert "785 people have taken action" in page, path
                assert "Updated once an hour" in page, path
        thanks = await sign(first, signer(3), json=False)
        thanked = (await first.get(thanks.headers["location"])).text
        assert "785 people have taken action" in thanked
        assert "Your signature will be in the count after its next update." in thanked

        now[0] = step_of(TWENTY_PAST, 1) + HOUR + 1  # three o'clock
        assert (await count(first), await count(second)) == (OFFSET + 4, OFFSET + 4)
        for client in (first, second):
            page = (await client.get("/c/belarus/embed?lang=en")).text
            assert "789 people have taken action" in page


async def test_the_shipped_campaign_and_a_new_one_in_the_admin_are_counted_hourly(client_factory):
    """Safe unless an operator chooses otherwise: the Belarus campaign a new install loads,
    open to any site, publishes its count hourly, and the admin's form for a new campaign
    offers once an hour first (a campaign file that leaves the setting out stays live)."""
    assert load_file(resource("campaigns") / "belarus.toml").count_every_hours == 1
    async with client_factory(live=False) as client:
        now = [TWENTY_PAST]
        client.app.state.service.counter.wall = lambda: now[0]
        assert (
            await operations.campaign(client.app.state.service.store, "belarus")
        ).count_every_hours == 1
        assert (await sign(client, signer(1))).json()["count"] == OFFSET
        assert "Updated once an hour" in (await client.get("/c/belarus/embed?lang=en")).text
        now[0] += HOUR
        assert await count(client) == OFFSET + 1

        await add_operator(client)
        await log_in(client)
        form = (await client.get("/admin/campaigns/new")).text
        assert '<option value="1" selected>Once an hour</option>' in form
        assert '<option value="0" selected>' not in form


async def test_a_live_campaign_counts_at_once_and_says_nothing_of_updates(client):
    """The setting's absence changes nothing: every signature shows at once."""
    assert (await sign(client, signer(1))).json()["count"] == OFFSET + 1
    page = (await client.get("/c/belarus/embed?lang=en")).text
    assert "786 people have taken action" in page and "Updated" not in page
    assert await fresh_token(client)  # the page still carries its form


@pytest.mark.parametrize(
    ("hours", "language", "note"),
    [(1, "fr", "Mis à jour une fois par heure"), (6, "ru", "Обновляется раз в 6 часов"),
     (24, "be", "Абнаўляецца раз на суткі"), (48, "en", "Updated every 2 days"),
     (2, "be", "Абнаўляецца раз на 2 гадзіны")],
)  # fmt: skip
async def test_readers_are_told_how_often_in_their_language(client, hours, language, note):
    store = client.app.state.service.store
    belarus = await operations.campaign(store, "belarus")
    await operations.save_campaign(store, "test", replace(belarus, count_every_hours=hours))
    await client.app.state.service.campaigns.reload(force=True)
    page = (await client.get(f"/c/belarus/embed?lang={language}")).text
    assert note in page


async def test_instances_agree_on_the_count_of_a_period(client_factory):
    """Two instances asking for the same period get one number: the first takes it, the
    other reads it, though signatures arrived between their questions. A clock running ahead
    publishes the next period early; the instance behind keeps that, never going back."""
    async with client_factory() as first, client_factory() as second:
        store = first.app.state.service.store
        step = int(step_of(TWENTY_PAST, 1))
        assert await store.published_count("belarus", step) == 0
        await sign(first, signer(1))
        assert await second.app.state.service.store.published_count("belarus", step) == 0
        assert await store.published_count("belarus", step + HOUR) == 1
        await sign(first, signer(2))
        assert await second.app.state.service.store.published_count("belarus", step) == 1


async def test_an_operators_figures_stop_where_the_public_count_does(client):
    """A stolen admin session must tell no more than the public count: for a campaign
    counted in steps, the admin's front page and campaign page (count, last 24 hours, per
    hour, countries, partners) stop at the start of the period, and move with it."""
    await add_operator(client)
    await log_in(client)
    live = (await client.get("/admin/campaigns/belarus")).text
    assert "The public count is live" in live and "every figure on this page" not in live
    assert "until you close it. Its signatures" in " ".join(live.split())  # two sentences
    now = await counted_hourly(client)
    await sign(client, signer(1))
    await sign(client, signer(2, country="BY"))

    page = (await client.get("/admin/campaigns/belarus")).text
    assert "<div><dt>Signatures received</dt><dd>0</dd></div>" in page
    assert "<div><dt>Last 24 hours</dt><dd>0</dd></div>" in page
    assert "No signatures yet" in page and '<td colspan="3">None yet.</td>' in page  # countries
    assert "every figure on this page is as of" in page and "count is live" not in page
    home = (await client.get("/admin")).text
    assert "<td>785</td><td>0</td><td>0</td>" in home

    now[0] += HOUR  # the next period: the two signatures show, here as for readers
    page = (await client.get("/admin/campaigns/belarus")).text
    assert "<div><dt>Signatures received</dt><dd>2</dd></div>" in page
    assert "<div><dt>Last 24 hours</dt><dd>2</dd></div>" in page
    assert "No signatures yet" not in page and '<td colspan="3">None yet.</td>' not in page
    assert "<td>787</td><td>2</td><td>2</td>" in (await client.get("/admin")).text
    assert await count(client) == OFFSET + 2


async def counted_hourly(client, **fields) -> list[float]:
    """The campaign counted hourly (and `fields`), and the counter's clock in the test's hand."""
    now = [time.time()]
    client.app.state.service.counter.wall = lambda: now[0]
    store = client.app.state.service.store
    belarus = await operations.campaign(store, "belarus")
    await operations.save_campaign(store, "test", replace(belarus, count_every_hours=1, **fields))
    await client.app.state.service.campaigns.reload(force=True)
    return now


async def test_held_and_pending_figures_stop_at_the_period_and_release_counts_those(
    client, database
):
    """Held for review and awaiting confirmation are figures like the others: a session in
    the wrong hands must not watch them rise as readers sign. Releasing counts the held
    signatures the page shows, those made before the period began; the others wait for the
    next update, as the page says."""
    await add_operator(client)
    await log_in(client)
    now = await counted_hourly(client, hold_for_review=True)
    page = "/admin/campaigns/belarus"
    await sign(client, signer(1))  # held
    await sign(client, signer(2))  # as if it awaited confirmation by email
    last = "id = (SELECT max(id) FROM signatures)"
    database.execute(f"UPDATE signatures SET pending = true, held = false WHERE {last}")
    shown = (await client.get(page)).text
    assert "Held, not counted: 0." in shown
    assert "Awaiting confirmation" not in shown and "Release " not in shown

    now[0] += HOUR
    shown = (await client.get(page)).text
    assert "Held, not counted: 1." in shown
    assert "Awaiting confirmation by email, not counted: 1." in shown
    assert "Release 1 held signature(s)" in shown
    # One more held signature, made in the new period: not shown, so not released.
    await sign(client, signer(3))
    in_period = time.strftime("%Y-%m-%dT%H:01:00Z", time.gmtime(now[0]))
    database.execute(f"UPDATE signatures SET signed_at = ? WHERE {last}", in_period)
    released = await form_post(client, f"{page}/review/release")
    assert "release: 1 signature(s)." in released.text
    assert "Held, not counted: 0." in released.text
    assert database.rows("SELECT count(*) FROM signatures WHERE held") == [(1,)]

    now[0] += HOUR
    assert "Release 1 held signature(s)" in (await client.get(page)).text


async def test_counting_an_invalidation_of_a_stepped_campaign_needs_the_password(client):
    """A count of what an invalidation by time window would touch is a live count of who
    signed in that window: on a campaign counted in steps it is asked for like the act, with
    the password, and goes in the audit log (what was asked, not the answer)."""
    path = "/admin/campaigns/belarus/review/invalidate"
    await add_operator(client)
    await log_in(client)
    await stale(client.app)
    await sign(client, signer(1))
    live = await form_post(client, path, {"since": "2026-01-01T00:00"})
    assert "Invalidate 1 signature(s)?" in live.text  # a live campaign: the count is public

    await counted_hourly(client)
    before = await count(client)
    asked = await form_post(client, path, {"since": "2026-01-01T00:00"})
    assert 'name="confirm_password"' in asked.text and "Invalidate 1" not in asked.text
    replay = dict(HIDDEN_RE.findall(asked.text))
    counted = await client.post(path, data={**replay, "confirm_password": PASSWORD})
    assert "Invalidate 1 signature(s)?" in counted.text
    assert "the count drops by 1, and the public count with it at its next update" in counted.text
    audit = (await client.get("/admin/audit")).text
    assert "invalidate.count" in audit and "since=2026-01-01T00:00" in audit
    assert await count(client) == before  # nothing changed
