"""The storage gateway. Views and domain code call this interface and never see SQL; each
backend (SQLite now, PostgreSQL later) implements it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from widget.campaigns import Campaign
from widget.signing import Signature

# Called after a commit with (campaign slug, signatures added), before anyone is answered.
AddedListener = Callable[[str, int], None]


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
    async def save_campaign(self, campaign: Campaign) -> bool:
        """Create or update a campaign by slug. True if it was created."""

    @abstractmethod
    async def campaigns(self) -> list[tuple[Campaign, int]]:
        """Every campaign with its number of signatures (without the offset)."""

    @abstractmethod
    async def campaigns_revision(self) -> int:
        """A number that changes whenever any campaign is saved."""

    @abstractmethod
    async def counts(self) -> dict[str, int]:
        """Signatures per campaign slug, read from the maintained counters."""

    @abstractmethod
    async def add_signature(self, signature: Signature) -> None:
        """Store a signature; returns once it is committed. A duplicate (same campaign and
        email key) is an ordinary outcome: nothing is added and nothing is raised."""


def open_store(database: str, synchronous: str = "FULL") -> Store:
    """The backend for a database setting."""
    from widget.store.sqlite import SQLiteStore

    path = database.removeprefix("sqlite:///")
    return SQLiteStore(path, synchronous=synchronous)
