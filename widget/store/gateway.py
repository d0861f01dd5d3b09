"""The storage gateway: every query, row mapping, timestamp, revision and change notice, written
once over a backend (widget/store/sqlite.py, widget/store/postgres.py) that supplies only its
connections, its migrations and the SQL that truly differs. Views and domain code call this and
never see SQL; driver errors reach them only as StoreError."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from widget import campaigns as campaigns_mod
from widget.campaigns import Campaign
from widget.sealing import PERSONAL_FIELDS, SealedSignature, Sealer
from widget.store.backend import Backend, Connection, now
from widget.store.keys import DOMAIN_KEY_CHECK
from widget.store.reports import FINER_THAN_HOUR, Reports, invalidation_where, signed_before
from widget.store.types import WITHDRAWAL, AddedListener, Audit, StoreError
from widget.store.writer import GroupWriter

# What the count-keeping code reads of a row: its campaign, whether it is not counted for a
# reason other than invalidation (held or pending), and whether it is invalid.
_COUNT_STATE = "campaign, held OR pending, invalid"
_COUNT = "(SELECT coalesce(sum(n), 0) FROM campaign_counts WHERE campaign = slug)"
# A stored time cut to its hour where it is finer: 2026-12-07T15:47:12Z -> 15:00:00Z.
_HOUR_ONLY = "{0} = substr({0}, 1, 14) || '00:00Z' WHERE " + FINER_THAN_HOUR


class Store(Reports):
    def __init__(self, backend: Backend, name: str) -> None:
        super().__init__(backend)
        self.listeners: list[AddedListener] = []
        # A lambda, so that the batch function is looked up on each commit (tests spy on it).
        self._signatures = GroupWriter(
            lambda batch: self._store_batch(batch), self._notify, name=f"{name}-writer"
        )

    def _notify(self, added: dict[str, int]) -> None:
        for slug, count in added.items():
            if count:
                for listener in self.listeners:
                    listener(slug, count)

    async def open(self) -> None:
        """Connect, and create or migrate the schema."""
        await self.backend.open()
        self._signatures.start()

    async def close(self) -> None:
        """Finish the writes under way, then disconnect."""
        await self._signatures.stop()
        await self.backend.close()

    async def ping(self) -> None:
        """Return once the database answers a query and the last signing batch was stored;
        raise StoreError if not (a full disk answers reads but takes no signature)."""
        await self.backend.ping()
        if self._signatures.failing:
            raise StoreError("the last signing batch was not stored")

    async def _bump(self, tx: Connection, slug: str, by: int) -> None:
        """Keep a campaign's count in step, in the same transaction, on one of its shards."""
        if by:
            await tx.execute(
                "INSERT INTO campaign_counts (campaign, shard, n) VALUES (?, ?, ?) "
                "ON CONFLICT (campaign, shard) DO UPDATE SET n = campaign_counts.n + excluded.n",
                slug, self._shard(), by,
            )  # fmt: skip

    def _shard(self) -> int:
        return random.randrange(self.backend.shards)  # noqa: S311 - spreading writes

    # Campaigns -------------------------------------------------------------------------------

    async def save_campaign(self, campaign: Campaign, audit: Audit | None = None) -> bool:
        """Create or update a campaign by slug. True if it was created."""
        stamp = now()
        config = json.dumps(campaign.to_dict(), ensure_ascii=False, sort_keys=True)
        async with self.backend.transaction() as tx:
            exists = await tx.fetchval("SELECT 1 FROM campaigns WHERE slug = ?", campaign.slug)
            await tx.execute(
                "INSERT INTO campaigns (slug, config, revision, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (slug) DO UPDATE SET config = excluded.config, "
                "revision = excluded.revision, updated_at = excluded.updated_at",
                campaign.slug, config, await self._revise(tx), stamp, stamp,
            )  # fmt: skip
            await self._record(tx, audit)
        return exists is None

    async def close_at_closing_time(self, slug: str, stamp: str, audit: Audit) -> bool:
        """Mark an open campaign closed if its closing time is at or before `stamp`; True if
        this call did it. Every instance may ask at once: the row lock lets one do it."""
        async with self.backend.transaction() as tx:
            config = await tx.fetchval(
                f"SELECT config FROM campaigns WHERE slug = ?{self.backend.for_update}", slug
            )
            if config is None:
                return False
            data = json.loads(config)
            if data.get("status") != campaigns_mod.OPEN:
                return False
            if not data.get("closes_at") or data["closes_at"] > stamp:
                return False
            data["status"] = campaigns_mod.CLOSED
            await tx.execute(
                "UPDATE campaigns SET config = ?, revision = ?, updated_at = ? WHERE slug = ?",
                json.dumps(data, ensure_ascii=False, sort_keys=True), await self._revise(tx),
                now(), slug,
            )  # fmt: skip
            await self._record(tx, audit)
        return True

    async def campaigns(self) -> list[tuple[Campaign, int]]:
        """Every campaign with its number of signatures received (without the offset)."""
        rows = await self._fetch(f"SELECT config, {_COUNT} FROM campaigns ORDER BY slug")
        return [
            (campaigns_mod.parse(json.loads(config), stored=True), int(n)) for config, n in rows
        ]

    async def campaigns_revision(self) -> str:
        """A value that changes whenever a campaign or a partner is saved."""
        return str(await self._value("SELECT n FROM store_revision"))

    async def counts(self) -> dict[str, int]:
        """Signatures received per campaign slug (repeats included), as maintained."""
        rows = await self._fetch(f"SELECT slug, {_COUNT} FROM campaigns")
        return {slug: int(n) for slug, n in rows}

    async def published_count(self, slug: str, step: int) -> int:
        """The count published for a campaign from `step` (the epoch second its period began):
        taken by the first instance to ask in that period, then the same for every instance; a
        later period already published (a clock ahead) is kept, never going back."""
        async with self.backend.transaction() as tx:
            await tx.execute(
                f"INSERT INTO published_counts (campaign, step, n) SELECT slug, ?, {_COUNT} "
                "FROM campaigns WHERE slug = ? ON CONFLICT (campaign) DO UPDATE SET "
                "step = excluded.step, n = excluded.n WHERE published_counts.step < excluded.step",
                step, slug,
            )  # fmt: skip
            n = await tx.fetchval("SELECT n FROM published_counts WHERE campaign = ?", slug)
        return int(n or 0)

    # Signatures ------------------------------------------------------------------------------

    async def add_signature(self, signature: SealedSignature) -> None:
        """Store a signature as its own row; returns once it is committed. A repeated address
        (same campaign and email key) is stored and counted exactly like a first one."""
        await self._signatures.submit(signature)

    async def _store_batch(self, batch: list[SealedSignature]) -> dict[str, int]:
        """One transaction for the whole batch; returns the signatures counted per campaign
        (held ones are stored, and counted once released)."""
        counted = Counter({s.campaign: 0 for s in batch})
        counted.update(s.campaign for s in batch if not s.held and not s.pending)
        await self.backend.insert_signatures(batch, dict(counted), self._shard())
        return {slug: n for slug, n in counted.items() if n}

    async def _uncount(self, tx: Connection, rows: list[tuple[Any, ...]]) -> dict[str, int]:
        """Lower the counts by the counted ones among rows of _COUNT_STATE."""
        counted = Counter(slug for slug, held, invalid in rows if not held and not invalid)
        for slug, n in counted.items():
            await self._bump(tx, slug, -n)
        return dict(counted)

    async def delete_signer(
        self, email_key: bytes, campaign: str | None = None, audit: Audit | None = None
    ) -> dict[str, int]:
        """Delete a signer's signatures (in one campaign, or all); the counts drop by exactly
        as many. Returns the number deleted per campaign."""
        # Every campaign through the (campaign, email_key) index: an index on the address
        # alone would be written by every signature for this rare action.
        scope = "= ?" if campaign is not None else "IN (SELECT slug FROM campaigns)"
        params = (email_key, campaign) if campaign is not None else (email_key,)
        async with self.backend.transaction() as tx:
            gone = await tx.fetch(
                "DELETE FROM signatures WHERE email_key = ? AND campaign "
                f"{scope} RETURNING {_COUNT_STATE}",
                *params,
            )
            uncounted = await self._uncount(tx, gone)
            await self._record(tx, audit, len(gone))
        self._notify({slug: -n for slug, n in uncounted.items()})
        return dict(Counter(slug for slug, _, _ in gone))

    async def withdraw(self, campaign: str, withdraw_key: bytes, audit: Audit) -> bool:
        """Delete the one signature of `campaign` made with this withdrawal code, and lower
        the count if it counted; True if there was one. The audit entry is written only then."""
        async with self.backend.transaction() as tx:
            gone = await tx.fetch(
                "DELETE FROM signatures WHERE campaign = ? AND withdraw_key = ? "
                f"RETURNING {_COUNT_STATE}",
                campaign, withdraw_key,
            )  # fmt: skip
            uncounted = await self._uncount(tx, gone)
            if gone:
                await self._record(tx, audit, len(gone))
        self._notify({slug: -n for slug, n in uncounted.items()})
        return bool(gone)

    # Confirmation by email (widget/confirmation.py) ------------------------------------------

    async def confirm(self, campaign: str, confirm_key: bytes, not_before: str) -> str:
        """Confirm the signature made with this link, if it awaits confirmation and was made at
        or after `not_before`: it counts from now on. Returns "confirmed", "already" (it was
        confirmed before) or "expired" (too old, withdrawn, purged, or never made)."""
        async with self.backend.transaction() as tx:
            done = await tx.fetch(
                "UPDATE signatures SET pending = false WHERE campaign = ? AND confirm_key = ? "
                "AND pending AND signed_at >= ? RETURNING campaign, held, invalid",
                campaign, confirm_key, not_before,
            )  # fmt: skip
            counted = [(slug, 1) for slug, held, invalid in done if not held and not invalid]
            for slug, n in counted:
                await self._bump(tx, slug, n)
        if done:
            self._notify(dict(counted))
            return "confirmed"
        return await self.confirmation_state(campaign, confirm_key, not_before)

    async def drop_unconfirmed(self, before: str) -> int:
        """Delete the signatures still awaiting confirmation that were made before `before`:
        their links have expired. They never counted, so no count moves. Asked every round of
        housekeeping: without such a row (the usual case) it only reads, through the index."""
        if not await self._fetch(
            "SELECT 1 FROM signatures WHERE pending AND signed_at < ?", before
        ):
            return 0
        async with self.backend.transaction() as tx:
            return await tx.execute(
                "DELETE FROM signatures WHERE pending AND signed_at < ?", before
            )

    async def seal_legacy_rows(self, sealer: Sealer, chunk: int = 500) -> int:
        """Seal every row stored in plaintext (from before sealing); returns how many."""
        sealed = 0
        while True:
            async with self.backend.transaction() as tx:
                rows = await tx.fetch(
                    "SELECT id, first_name, last_name, email, postal_code FROM signatures "
                    f"WHERE sealed IS NULL ORDER BY id LIMIT ?{self.backend.for_update}",
                    chunk,
                )
                await tx.executemany(
                    "UPDATE signatures SET sealed = ?, first_name = '', last_name = '', "
                    "email = '', postal_code = '' WHERE id = ?",
                    [
                        (sealer.seal_personal(dict(zip(PERSONAL_FIELDS, row[1:], strict=True))),
                         row[0])
                        for row in rows
                    ],
                )  # fmt: skip
            sealed += len(rows)
            if len(rows) < chunk:
                break
        await self.backend.compact()
        return sealed

    async def purge(
        self, campaign: str, before: str, audit: Audit | None = None, quiet: bool = False
    ) -> int:
        """Remove the personal data of signatures older than `before`; counts stay. The random
        key frees the address to sign a later campaign's petition. `quiet` (the service's own
        purge, repeated until nothing is left) writes the audit entry and rewrites the files
        only when a row changed."""
        async with self.backend.transaction() as tx:
            purged = await tx.execute(
                "UPDATE signatures SET sealed = NULL, partner_sealed = NULL, domain_key = NULL, "
                f"email_key = {self.backend.random_key}, first_name = '', last_name = '', "
                "email = '', postal_code = '' WHERE campaign = ? AND signed_at <= ? "
                "AND (sealed IS NOT NULL OR email <> '')",
                campaign, before,
            )  # fmt: skip
            if purged or not quiet:
                await self._record(tx, audit, purged)
        if purged or not quiet:
            await self.backend.compact()
        return purged

    async def forget_domains(self, audit: Audit | None = None) -> int:
        """Clear every stored hash of an email domain, leaving no copy in the files; returns
        how many rows held one."""
        async with self.backend.transaction() as tx:
            cleared = await tx.execute(
                "UPDATE signatures SET domain_key = NULL WHERE domain_key IS NOT NULL"
            )
            # No hash of a domain is left: whatever domain key comes next may be recorded.
            await tx.execute("DELETE FROM key_checks WHERE name = ?", DOMAIN_KEY_CHECK)
            await self._record(tx, audit, cleared)
        await self.backend.compact()
        return cleared

    async def forget_minutes(self, audit: Audit | None = None) -> int:
        """Keep only the hour of each signature's time and of each withdrawal in the audit log
        (as is stored now; older rows kept the second), leaving no copy in the files; returns
        how many signatures kept more."""
        async with self.backend.transaction() as tx:
            changed = await tx.execute(f"UPDATE signatures SET {_HOUR_ONLY.format('signed_at')}")
            await tx.execute(
                f"UPDATE audit_log SET {_HOUR_ONLY.format('at')} AND action = ?", WITHDRAWAL
            )
            await self._record(tx, audit, changed)
        await self.backend.compact()
        return changed

    async def release_held(
        self, campaign: str, audit: Audit | None = None, until: str | None = None
    ) -> int:
        """Count the signatures held for review (those made before `until`, if given); returns
        how many."""
        bound, before = signed_before(until)
        async with self.backend.transaction() as tx:
            released = len(await tx.fetch(
                "UPDATE signatures SET held = false WHERE campaign = ? AND held AND NOT invalid "
                f"AND NOT pending{bound} RETURNING id",
                campaign, *before,
            ))  # fmt: skip
            await self._bump(tx, campaign, released)
            await self._record(tx, audit, released)
        self._notify({campaign: released})
        return released

    async def invalidate(
        self,
        campaign: str,
        partner: str | None = None,
        since: str | None = None,
        until: str | None = None,
        domain_key: bytes | None = None,
        audit: Audit | None = None,
    ) -> int:
        """Mark matching signatures invalid and uncount them; returns how many."""
        where, params = invalidation_where(campaign, partner, since, until, domain_key)
        async with self.backend.transaction() as tx:
            # RETURNING sees each row as this statement leaves it: a row released meanwhile by
            # another instance is uncounted here, exactly once.
            changed = await tx.fetch(
                f"UPDATE signatures SET invalid = true WHERE {' AND '.join(where)} "
                "RETURNING campaign, held OR pending, false",
                *params,
            )
            uncounted = await self._uncount(tx, changed)
            await self._record(tx, audit, len(changed))
        self._notify({slug: -n for slug, n in uncounted.items()})
        return len(changed)
