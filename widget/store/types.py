"""What the store hands out: rows, statistics, audit entries, and its one error."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# Called after a commit with (campaign slug, signatures added), before anyone is answered.
AddedListener = Callable[[str, int], None]


class SignatureRow(NamedTuple):
    sealed: bytes | None  # personal fields sealed to the operator's key
    partner_sealed: bytes | None  # and to the partner's, when it has a key and they opted in
    country: str
    opt_in: int
    partner: str | None
    partner_opt_in: int
    signed_at: str
    legacy: dict[str, str] | None = None  # plaintext of a row written before sealing


class Stats(NamedTuple):
    per_day: list[tuple[str, int]]  # ("2026-11-24", n), oldest first
    by_country: list[tuple[str, int]]
    by_partner: list[tuple[str, int, int]]  # (code or "", signatures, opted in to partner)
    last_24h: int
    held: int = 0  # stored but held for review, not counted
    # Distinct addresses among the counted signatures: an operator's figure, never public
    # (the public count is every signature received, so it cannot tell a repeat apart).
    signers: int = 0
    pending: int = 0  # awaiting confirmation by email, not counted
    # ("2026-11-24T10", n) for the hours since `since` with a signature, oldest first.
    per_hour: tuple[tuple[str, int], ...] = ()


class AuditEntry(NamedTuple):
    at: str
    actor: str
    action: str
    campaign: str | None
    detail: str


class AdminSession(NamedTuple):
    """An operator's session as stored: `id` is the hash of the cookie's token, never the
    token; `client` is coarse ("Firefox on Linux"), never an address."""

    id: str
    operator: str
    client: str
    created_at: str
    last_seen: str
    verified_at: str


WITHDRAWAL = "signature.withdraw"  # a reader's act in the audit log: kept to the hour


class Audit(NamedTuple):
    """An operator action's audit entry, written in the same transaction as the action. In
    `detail`, "{n}" stands for the number of rows the action touched. Never signer data."""

    actor: str
    action: str
    campaign: str | None
    detail: str = ""

    def described(self, n: int | None = None) -> str:
        return self.detail if n is None else self.detail.replace("{n}", str(n))


class StoreError(RuntimeError):
    """The database could not do what was asked; the reader is told to try again."""
