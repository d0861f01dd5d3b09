"""What the database keeps of when a reader acted: only the hour. A stolen copy of the
database, or an export, must tell an adversary who knows when its visitor was on the petition
no more than a count published hourly would: not whether a signature was made at that minute.
An operator's time window for an invalidation therefore runs on whole hours, widened to take
in every signature made within it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import count, sign, signer
from tests.test_admin import HIDDEN_RE, add_operator, log_in, post
from tests.test_withdrawal import withdraw
from widget import review

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
