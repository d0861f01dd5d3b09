"""Operator actions are written once (widget/operations.py) and write their audit entry in the
same transaction as the change: if the entry cannot be written, nothing changes."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from tests.conftest import TEST_SECRET, sealed_signature, signer
from widget import operations
from widget.campaigns import load_file
from widget.resources import resource
from widget.store import StoreError, open_store

# Live, as the shipped campaign is not: the guards below are about leaving it.
BELARUS = replace(load_file(resource("campaigns") / "belarus.toml"), count_every_hours=0)


@pytest.fixture
async def store(database):
    store = open_store(database.url)
    await store.open()
    await store.save_campaign(BELARUS)
    for n in (1, 1, 2):
        await store.add_signature(sealed_signature(signer(n), BELARUS))
    yield store
    await store.close()


@contextlib.contextmanager
def audit_refused(database):
    if database.kind == "sqlite":
        database.execute(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )
        drop = ["DROP TRIGGER refuse_audit"]
    else:
        database.execute(
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'audit refused'; END$$"
        )
        database.execute(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit()"
        )
        drop = ["DROP TRIGGER refuse_audit ON audit_log", "DROP FUNCTION refuse_audit()"]
    try:
        yield
    finally:
        for statement in drop:
            database.execute(statement)


async def test_deleting_a_signer_is_audited_in_the_same_transaction(store, database):
    with audit_refused(database), pytest.raises(StoreError):
        await operations.delete_signer(store, "op@example.org", TEST_SECRET, "alesia1@example.org")
    assert (await store.counts())["belarus"] == 3  # nothing deleted without its audit entry
    removed = await operations.delete_signer(
        store, "op@example.org", TEST_SECRET, " ALESIA1@example.org"
    )
    assert removed == {"belarus": 2}
    assert (await store.counts())["belarus"] == 1
    (entry,) = await store.audit_log()
    assert (entry.actor, entry.action, entry.detail) == (
        "op@example.org", "signer.delete", "2 signature(s) deleted",
    )  # fmt: skip


async def test_every_changing_action_writes_nothing_when_its_audit_cannot_be_written(
    store, database
):
    from widget.partners import make_partner

    before = database.snapshot()
    actions = [
        operations.save_campaign(store, "op", BELARUS),
        operations.save_partner(store, "op", make_partner("p1", "Partner One")),
        operations.release(store, "op", "belarus"),
        operations.forget_domains(store, "op"),
        operations.add_operator(store, "op", "new@example.org", "a long enough password"),
    ]
    with audit_refused(database):
        for action in actions:
            with pytest.raises(StoreError):
                await action
    assert database.snapshot() == before


async def test_refusals_say_why(store):
    with pytest.raises(operations.OperationError, match="no campaign 'nope'"):
        await operations.release(store, "op", "nope")
    with pytest.raises(operations.OperationError, match="no partner 'ghost'"):
        await operations.rotate_partner_key(store, "op", "ghost")
    with pytest.raises(operations.OperationError, match="valid email"):
        await operations.delete_signer(store, "op", TEST_SECRET, "not an address")
    with pytest.raises(operations.OperationError, match="no operator"):
        await operations.remove_operator(store, "op", "nobody@example.org")


def test_only_edits_that_reach_signers_are_guarded():
    """The edits that stand for a dangerous act are named; turning one off, or a text edit, is
    not (the admin asks for the password only for the former)."""

    mailing = replace(BELARUS, confirm_email=True)
    assert operations.guarded_change(BELARUS, mailing) == "campaign.confirm-email"
    assert operations.guarded_change(None, mailing) == "campaign.confirm-email"
    assert operations.guarded_change(mailing, BELARUS) is None  # turned off
    assert operations.guarded_change(mailing, replace(mailing, title="New")) is None
    video = replace(BELARUS, video_url="https://www.youtube-nocookie.com/embed/a")
    assert operations.guarded_change(BELARUS, video) == "campaign.video"
    same_host = replace(video, video_url="https://www.youtube-nocookie.com/embed/b")
    assert operations.guarded_change(video, same_host) is None
    elsewhere = replace(video, video_url="https://video.watcher.example/embed/1")
    assert operations.guarded_change(video, elsewhere) == "campaign.video"
    assert operations.guarded_change(elsewhere, replace(elsewhere, video_url="")) is None
    hourly = replace(BELARUS, count_every_hours=1)
    assert operations.guarded_change(BELARUS, hourly) is None  # steps: safer
    assert operations.guarded_change(hourly, replace(hourly, count_every_hours=24)) is None
    assert operations.guarded_change(hourly, BELARUS) == "campaign.count"  # live again
    daily = replace(BELARUS, count_every_hours=24)
    assert operations.guarded_change(daily, hourly) == "campaign.count"  # moves more often
