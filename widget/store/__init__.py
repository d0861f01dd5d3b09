"""The storage gateway. Views and domain code call this interface and never see SQL; each
backend (SQLite for one process, PostgreSQL for several instances) implements it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple

from widget.campaigns import Campaign
from widget.partners import Partner
from widget.sealing import SealedSignature, Sealer

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


class AuditEntry(NamedTuple):
    at: str
    actor: str
    action: str
    campaign: str | None
    detail: str


class StoreError(RuntimeError):
    """The database could not do what was asked; the reader is told to try again."""


class Store(ABC):
    def __init__(self) -> None:
        self.listeners: list[AddedListener] = []

    def _notify(self, added: dict[str, int]) -> None:
        for slug, count in added.items():
            if count:
                for listener in self.listeners:
                    listener(slug, count)

    @abstractmethod
    async def open(self) -> None:
        """Connect, and create or migrate the schema."""

    @abstractmethod
    async def close(self) -> None:
        """Finish the writes under way, then disconnect."""

    @abstractmethod
    async def ping(self) -> None:
        """Return once the database answers a query; raise StoreError if it does not."""

    @abstractmethod
    async def save_campaign(self, campaign: Campaign) -> bool:
        """Create or update a campaign by slug. True if it was created."""

    @abstractmethod
    async def campaigns(self) -> list[tuple[Campaign, int]]:
        """Every campaign with its number of signatures (without the offset)."""

    @abstractmethod
    async def campaigns_revision(self) -> str:
        """A value that changes whenever a campaign or a partner is saved."""

    @abstractmethod
    async def counts(self) -> dict[str, int]:
        """Signatures received per campaign slug (repeats included), read from the maintained
        counters."""

    @abstractmethod
    async def unique_signers(self) -> dict[str, int]:
        """Distinct addresses among the counted signatures, per campaign slug: for operators."""

    @abstractmethod
    async def add_signature(self, signature: SealedSignature) -> None:
        """Store a signature as its own row; returns once it is committed. A repeated address
        (same campaign and email key) is stored and counted exactly like a first one."""

    @abstractmethod
    async def delete_signer(self, email_key: bytes, campaign: str | None = None) -> dict[str, int]:
        """Delete a signer's signatures (in one campaign, or all); the counts drop with them.
        Returns the number deleted per campaign."""

    @abstractmethod
    async def seal_legacy_rows(self, sealer: Sealer) -> int:
        """Seal every row stored in plaintext (from before sealing); returns how many."""

    @abstractmethod
    async def unsealed_count(self) -> int: ...

    @abstractmethod
    async def purge(self, campaign: str, before: str) -> int:
        """Remove the personal data of signatures older than `before`; counts stay."""

    @abstractmethod
    async def forget_domains(self) -> int:
        """Clear every stored hash of an email domain, leaving no copy in the files; returns
        how many rows held one."""

    @abstractmethod
    async def release_held(self, campaign: str) -> int:
        """Count the signatures held for review; returns how many."""

    @abstractmethod
    async def invalidate(
        self,
        campaign: str,
        partner: str | None = None,
        since: str | None = None,
        until: str | None = None,
        domain_key: bytes | None = None,
    ) -> int:
        """Mark matching signatures invalid and uncount them; returns how many."""

    @abstractmethod
    def signature_rows(
        self, campaign: str, partner: str | None = None, chunk: int = 1000
    ) -> AsyncIterator[list[SignatureRow]]:
        """A campaign's signers in chunks, oldest first, in constant memory: each address once,
        by its latest counted signature (whose consents count). With a partner: only those
        whose latest signature came through it and opted in to hear from it."""

    @abstractmethod
    async def stats(self, campaign: str, since: str) -> Stats:
        """Signatures per day, by country and by partner, and how many since `since`."""

    @abstractmethod
    async def save_partner(self, partner: Partner) -> bool:
        """Create or update a partner by code. True if it was created."""

    @abstractmethod
    async def partners(self) -> list[Partner]: ...

    @abstractmethod
    async def save_operator(self, email: str, password_hash: str) -> bool:
        """Create an operator or set their password. True if created."""

    @abstractmethod
    async def operator_hash(self, email: str) -> str | None: ...

    @abstractmethod
    async def operators(self) -> list[tuple[str, str]]:
        """(email, created_at) of every operator."""

    @abstractmethod
    async def remove_operator(self, email: str) -> bool: ...

    @abstractmethod
    async def audit(self, actor: str, action: str, campaign: str | None, detail: str) -> None:
        """Record who did what. `detail` never holds signer data."""

    @abstractmethod
    async def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        """The newest entries first."""


def open_store(database: str, synchronous: str = "FULL", pool_size: int = 5) -> Store:
    """The backend for a database setting: postgresql://… or postgres://… is PostgreSQL (with
    `pool_size` connections at most); a path or sqlite:///path is SQLite."""
    from widget.settings import database_file, is_postgres

    if is_postgres(database):
        from widget.store.postgres import PostgresStore

        return PostgresStore(database, pool_size=pool_size)
    from widget.store.sqlite import SQLiteStore

    return SQLiteStore(str(database_file(database)), synchronous=synchronous)
