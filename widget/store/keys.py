"""The gateway's record of the keys its stored hashes were made with (widget/keychecks.py):
a check value per key, never the key."""

from __future__ import annotations

from widget.store.accounts import Accounts
from widget.store.backend import now

SECRET_KEY_CHECK = "secret-key"  # noqa: S105 (the name of a check, not a secret)
DOMAIN_KEY_CHECK = "domain-key"
# Each operator public key the service has sealed to, by name (the key itself is public).
PUBLIC_KEY_PREFIX = "public-key:"


class KeyChecks(Accounts):
    async def key_checks(self) -> dict[str, bytes]:
        """The check value recorded for each key, by name."""
        rows = await self._fetch("SELECT name, value FROM key_checks")
        return {name: bytes(value) for name, value in rows}

    async def public_keys_sealed_to(self) -> list[str]:
        """When each operator public key the service has sealed to was first recorded, oldest
        first: rows sealed to each open only with that key's private half."""
        rows = await self._fetch(
            "SELECT created_at FROM key_checks WHERE name LIKE ? ORDER BY created_at, name",
            PUBLIC_KEY_PREFIX + "%",
        )
        return [at for (at,) in rows]

    async def claim_key_check(self, name: str, value: bytes) -> bytes:
        """The check value recorded for the key `name`, after recording `value` if none was.
        The first to record wins: of instances started at once with different keys, each
        gets the same answer, and all but one find it is not theirs."""
        async with self.backend.transaction() as tx:
            await tx.execute(
                "INSERT INTO key_checks (name, value, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                name, value, now(),
            )  # fmt: skip
            return bytes(await tx.fetchval("SELECT value FROM key_checks WHERE name = ?", name))
