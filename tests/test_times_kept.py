"""What the database keeps of when a reader acted: only the hour. A stolen copy of the
database, or an export, must tell an adversary who knows when its visitor was on the petition
no more than a count published hourly would: not whether a signature was made at that minute.
An operator's time window for an invalidation therefore runs on whole hours, widened to take
in every signature made within it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import count, sealed_signature, sign, signer
from tests.test_admin import HIDDEN_RE, add_operator, log_in, post
from tests.test_withdrawal import withdraw
from widget import operations, review
from widget.store import WITHDRAWAL

ON_THE_HOUR = r"^\d{4}-\d\d-\d\dT\d\d:00:00Z$"


async def test_a_signature_and_a_withdrawal_keep_only_their_hour(client, database):
    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    code = (await sign(client, signer(1))).json()["withdraw_code"]
    await sign(client, signer(2))
    after = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    stored = [at for (at,) in database.rows("SELECT signed_at FROM signatures")]
    assert len(stored) == 2
    hours = {before.strftime("%Y-%m-%dT%H:00:00Z"), after.strftime("%Y-%m-%dT%H:00:00Z")}
    assert set(stored) <= hours, stored  # the hour, never the minute or the second

    assert (await withdraw(client, code)).status_code == 200
    (withdrawn,) = database.rows("SELECT at FROM audit_log WHERE action = ?", "signature.withdraw")
    assert withdrawn[0] in hours, withdrawn


@pytest.mark.parametrize(
    ("since", "until", "window"),
    [("2026-11-24T15:40", None, ("2026-11-24T15:00:00Z", None)),
     ("2026-11-24T15:00:00Z", "2026-11-24T16:00:00Z",
      ("2026-11-24T15:00:00Z", "2026-11-24T16:00:00Z")),
     (None, "2026-11-24T15:20", (None, "2026-11-24T16:00:00Z")),
     ("2026-11-24T17:40+02:00", "2026-11-24T17:50+02:00",
      ("2026-11-24T15:00:00Z", "2026-11-24T16:00:00Z"))],
)  # fmt: skip
def test_a_time_window_runs_from_and_to_whole_hours(since, until, window):
    which = review.parse_invalidation(None, since, until, None)
    assert (which.since, which.until) == window


def test_a_window_that_ends_before_it_begins_is_refused():
    """It used to invalidate nothing and say "invalidated 0 signature(s)", as if the window
    had been searched and found clean."""
    with pytest.raises(review.ReviewError, match="until: must be after since"):
        review.parse_invalidation(None, "2026-12-09", "2026-12-01", None)
    with pytest.raises(review.ReviewError, match="until: must be after since"):
        review.parse_invalidation(None, "2026-12-01T16:00", "2026-12-01T15:00", None)


async def test_a_window_from_a_minute_ago_takes_in_a_signature_made_since(client):
    """Made at, say, 15:50 and kept as 15:00: an operator who invalidates from 15:40 must
    still reach it, and is shown the window as it is."""
    await add_operator(client)
    await log_in(client)
    await sign(client, signer(1))
    before = await count(client)
    since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    path = "/admin/campaigns/belarus/review/invalidate"
    preview = await post(client, path, {"since": since})
    assert "<h1>Invalidate 1 signature(s)?</h1>" in preview.text, preview.text
    hour = since[:14] + "00:00Z"
    assert f"since={hour}" in preview.text
    done = await client.post(path, data=dict(HIDDEN_RE.findall(preview.text)))
    assert done.status_code == 200
    assert await count(client) == before - 1


async def test_forget_minutes_cuts_the_rows_stored_before_to_their_hour(client, database):
    """Rows stored before signatures kept only the hour keep the second until an operator
    runs `petition-widget forget-minutes`: then each keeps its hour, as new ones do, and a
    reader's withdrawal in the audit log too; operators' own entries keep theirs, and no
    count or chart changes."""
    store = client.app.state.service.store
    belarus = await operations.campaign(store, "belarus")
    times = ["2026-11-24T15:47:12Z", "2026-11-24T15:00:00Z", "2026-11-25T09:05:00Z"]
    for n, at in enumerate(times):
        await store.add_signature(replace(sealed_signature(signer(n), belarus), signed_at=at))
    audit = "INSERT INTO audit_log (at, actor, action, campaign, detail) VALUES (?, ?, ?, ?, ?)"
    database.execute(audit, "2026-11-24T16:12:30Z", "signer", WITHDRAWAL, "belarus", "")
    database.execute(audit, "2026-11-24T16:12:31Z", "op@example.org", "export", "belarus", "")
    charted = await store.stats("belarus", "2026-11-24T00:00:00Z")
    assert await store.times_to_the_second() == 2

    assert await operations.forget_minutes(store, "op@example.org") == 2
    stored = sorted(at for (at,) in database.rows("SELECT signed_at FROM signatures"))
    assert stored == ["2026-11-24T15:00:00Z", "2026-11-24T15:00:00Z", "2026-11-25T09:00:00Z"]
    entries = dict(database.rows("SELECT action, at FROM audit_log WHERE actor <> ?", "cli"))
    assert entries[WITHDRAWAL] == "2026-11-24T16:00:00Z"
    assert entries["export"] == "2026-11-24T16:12:31Z"
    assert database.rows("SELECT detail FROM audit_log WHERE action = ?", "forget-minutes") == [
        ("2 signature(s)",)
    ]
    assert await store.times_to_the_second() == 0
    after = await store.stats("belarus", "2026-11-24T00:00:00Z")
    assert (after.per_day, after.per_hour, after.by_country) == (
        charted.per_day,
        charted.per_hour,
        charted.by_country,
    )
    assert await operations.forget_minutes(store, "op@example.org") == 0
