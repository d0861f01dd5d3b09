"""The gateway's reports, which change nothing: the signers an export lists, a campaign's
statistics, how many signatures an invalidation or a purge would touch, and where a
confirmation link stands. The SQL that says which signatures count is here, for the gateway's
writes too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from widget.sealing import PERSONAL_FIELDS
from widget.store.keys import KeyChecks
from widget.store.types import Audit, SignatureRow, Stats

# A signature counts once it is neither held for review, awaiting confirmation nor invalidated.
COUNTED = "NOT held AND NOT pending AND NOT invalid"
# A signer's latest counted signature: the one whose consents the exports follow.
LATEST = (
    "NOT EXISTS (SELECT 1 FROM signatures AS later WHERE later.campaign = signatures.campaign "
    "AND later.email_key = signatures.email_key AND later.id > signatures.id "
    "AND NOT later.held AND NOT later.pending AND NOT later.invalid)"
)


# A stored time that keeps more than its hour (2026-12-07T15:47:12Z, not 15:00:00Z).
FINER_THAN_HOUR = "{0} NOT LIKE '%:00:00Z'"


def signed_before(until: str | None) -> tuple[str, tuple[str, ...]]:
    """The clause (" AND signed_at < ?") and parameter that bound a query at `until` (the start
    of a stepped campaign's period); nothing when None."""
    return (" AND signed_at < ?", (until,)) if until else ("", ())


_SIGNATURE = (
    "SELECT id, sealed, partner_sealed, country, opt_in, partner, partner_opt_in, signed_at, "
    "first_name, last_name, email, postal_code FROM signatures"
)


class Reports(KeyChecks):
    async def unsealed_count(self) -> int:
        return int(await self._value("SELECT count(*) FROM signatures WHERE sealed IS NULL"))

    async def unique_signers(self) -> dict[str, int]:
        """Distinct addresses among the counted signatures, per campaign slug: for operators."""
        rows = await self._fetch(
            "SELECT slug, (SELECT count(DISTINCT email_key) FROM signatures "
            f"WHERE campaign = slug AND {COUNTED}) FROM campaigns"
        )
        return {slug: int(n) for slug, n in rows}

    async def backup(self, target: str, audit: Audit) -> int:
        """A checked copy of the whole database in the empty file `target` (its signatures:
        sealed, keyed, and no key), then its audit entry; how many signatures it holds."""
        n = await self.backend.copy_to(target)
        await self.audit(audit.actor, audit.action, audit.campaign, audit.described(n))
        return n

    async def confirmation_state(self, campaign: str, confirm_key: bytes, not_before: str) -> str:
        """ "pending" (the link's button would confirm), "already" or "expired"."""
        rows = await self._fetch(
            "SELECT pending, signed_at >= ? FROM signatures WHERE campaign = ? "
            "AND confirm_key = ?",
            not_before, campaign, confirm_key,
        )  # fmt: skip
        if not rows:
            return "expired"
        pending, fresh = rows[0]
        if not pending:
            return "already"
        return "pending" if fresh else "expired"

    async def has_confirmed(self, campaign: str, email_key: bytes) -> bool:
        """Whether this address has a confirmed, valid signature on the campaign. Asked only by
        the mail queue, after the reader was answered: never in a reader's request."""
        rows = await self._fetch(
            "SELECT 1 FROM signatures WHERE campaign = ? AND email_key = ? AND NOT pending "
            "AND NOT invalid LIMIT 1",
            campaign, email_key,
        )  # fmt: skip
        return bool(rows)

    async def count_invalidatable(
        self,
        campaign: str,
        partner: str | None = None,
        since: str | None = None,
        until: str | None = None,
        domain_key: bytes | None = None,
    ) -> tuple[int, int]:
        """How many signatures `invalidate` with these filters would mark, and how many of
        those count now (the others are held or awaiting confirmation), changing nothing."""
        where, params = invalidation_where(campaign, partner, since, until, domain_key)
        ((n, counted),) = await self._fetch(
            f"SELECT count(*), count(*) FILTER (WHERE {COUNTED}) FROM signatures "
            f"WHERE {' AND '.join(where)}",
            *params,
        )
        return int(n), int(counted)

    async def count_purgeable(self, campaign: str, before: str) -> int:
        """How many signatures `purge` with this limit would empty, changing nothing."""
        rows = await self._fetch(
            "SELECT count(*) FROM signatures WHERE campaign = ? AND signed_at <= ? "
            "AND (sealed IS NOT NULL OR email <> '')",
            campaign, before,
        )  # fmt: skip
        return int(rows[0][0])

    async def times_to_the_second(self) -> int:
        """How many signatures keep more of their time than the hour (stored before it was
        cut to the hour): `Store.forget_minutes` cuts them."""
        return int(await self._value(
            f"SELECT count(*) FROM signatures WHERE {FINER_THAN_HOUR.format('signed_at')}"
        ))  # fmt: skip

    async def signature_rows(
        self, campaign: str, partner: str | None = None, chunk: int = 1000, since: str = ""
    ) -> AsyncIterator[list[SignatureRow]]:
        """A campaign's signers in chunks, oldest first, in constant memory: each address once,
        by its latest counted signature (whose consents count). With a partner: only those
        whose latest signature came through it and opted in to hear from it. Pages by id in
        short queries rather than one long transaction, so a slow download holds nothing.
        With `since` (an hour stamp): only signatures made from that hour on."""
        where = f"campaign = ? AND id > ? AND {COUNTED} AND {LATEST}"
        scope: tuple[str, ...] = ()
        if partner is not None:
            where += " AND partner = ? AND partner_opt_in"
            scope += (partner,)
        if since:
            where += " AND signed_at >= ?"
            scope += (since,)
        last = 0
        while True:
            rows = await self._fetch(
                f"{_SIGNATURE} WHERE {where} ORDER BY id LIMIT ?", campaign, last, *scope, chunk
            )
            if not rows:
                return
            last = rows[-1][0]
            yield [_signature_row(row) for row in rows]

    async def stats(self, campaign: str, since: str, until: str | None = None) -> Stats:
        """Signatures per day (and per hour since `since`), by country and by partner, and how
        many since `since`; only those signed before `until`, if given."""
        bound, before = signed_before(until)
        where = f"WHERE campaign = ? AND {COUNTED}{bound}"
        per_day = await self._fetch(
            f"SELECT substr(signed_at, 1, 10) AS day, count(*) FROM signatures {where} "
            "GROUP BY day ORDER BY day",
            campaign, *before,
        )  # fmt: skip
        per_hour = await self._fetch(
            f"SELECT substr(signed_at, 1, 13) AS hour, count(*) FROM signatures {where} "
            "AND signed_at >= ? GROUP BY hour ORDER BY hour",
            campaign, *before, since,
        )  # fmt: skip
        by_country = await self._fetch(
            f"SELECT country, count(*) AS n FROM signatures {where} "
            "GROUP BY country ORDER BY n DESC, country",
            campaign, *before,
        )  # fmt: skip
        by_partner = await self._fetch(
            "SELECT coalesce(partner, ''), count(*) AS n, count(*) FILTER (WHERE partner_opt_in) "
            f"FROM signatures {where} GROUP BY partner ORDER BY n DESC, partner NULLS FIRST",
            campaign, *before,
        )  # fmt: skip
        # Held and pending stop at `until` too (releasing then acts on the held ones shown).
        ((recent, held, signers, pending),) = await self._fetch(
            f"SELECT count(*) FILTER (WHERE signed_at >= ? AND {COUNTED}{bound}), "
            f"count(*) FILTER (WHERE held AND NOT pending AND NOT invalid{bound}), "
            f"count(DISTINCT email_key) FILTER (WHERE {COUNTED}{bound}), "
            f"count(*) FILTER (WHERE pending AND NOT invalid{bound}) "
            "FROM signatures WHERE campaign = ?",
            since, *before, *before, *before, *before, campaign,
        )  # fmt: skip
        return Stats(
            [(day, int(n)) for day, n in per_day],
            [(code, int(n)) for code, n in by_country],
            [(code, int(n), int(opted)) for code, n, opted in by_partner],
            int(recent), int(held), int(signers), int(pending),
            tuple((hour, int(n)) for hour, n in per_hour),
        )  # fmt: skip


def _signature_row(row: tuple[Any, ...]) -> SignatureRow:
    _, sealed, partner_sealed, country, opt_in, partner, partner_opt_in, signed_at = row[:8]
    # Rows written before sealing keep their plaintext until `petition-widget seal`.
    legacy = None if sealed is not None else dict(zip(PERSONAL_FIELDS, row[8:], strict=True))
    return SignatureRow(
        sealed, partner_sealed, country, int(opt_in), partner, int(partner_opt_in), signed_at,
        legacy,
    )  # fmt: skip


def invalidation_where(
    campaign: str,
    partner: str | None,
    since: str | None,
    until: str | None,
    domain_key: bytes | None,
) -> tuple[list[str], list[Any]]:
    """The WHERE clauses and parameters of an invalidation (and of its preview)."""
    where, params = ["campaign = ?", "NOT invalid"], list[Any]([campaign])
    for clause, value in (
        ("partner = ?", partner), ("signed_at >= ?", since), ("signed_at < ?", until),
        ("domain_key = ?", domain_key),
    ):  # fmt: skip
        if value is not None:
            where.append(clause)
            params.append(value)
    return where, params
