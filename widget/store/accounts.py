"""The gateway's queries about people and their actions: partners, operators and the audit
log. `Accounts` also holds the helpers every query of the gateway uses."""

from __future__ import annotations

import json
from typing import Any

from widget.closing import this_hour
from widget.partners import Partner
from widget.passkeys import Passkey
from widget.store.backend import Backend, Connection, now
from widget.store.types import WITHDRAWAL, AdminSession, Audit, AuditEntry

_SESSION = "s.id, s.operator, s.client, s.created_at, s.last_seen, s.verified_at"


class Accounts:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def _fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async with self.backend.read() as db:
            return await db.fetch(sql, *params)

    async def _value(self, sql: str, *params: Any) -> Any:
        async with self.backend.read() as db:
            return await db.fetchval(sql, *params)

    async def _record(self, tx: Connection, audit: Audit | None, n: int | None = None) -> None:
        """Write the action's audit entry in the action's own transaction."""
        if audit is not None:
            await tx.execute(
                "INSERT INTO audit_log (at, actor, action, campaign, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                # A reader's act keeps only its hour, as a signature does.
                this_hour() if audit.action == WITHDRAWAL else now(),
                audit.actor, audit.action, audit.campaign, audit.described(n),
            )  # fmt: skip

    async def _revise(self, tx: Connection) -> int:
        """A new revision for a saved campaign or partner, in the saving transaction: the one
        row serialises saves, so a reader never misses one."""
        await tx.execute("UPDATE store_revision SET n = n + 1")
        return int(await tx.fetchval("SELECT n FROM store_revision"))

    async def save_partner(self, partner: Partner, audit: Audit | None = None) -> bool:
        """Create or update a partner by code. True if it was created."""
        stamp = now()
        async with self.backend.transaction() as tx:
            exists = await tx.fetchval("SELECT 1 FROM partners WHERE code = ?", partner.code)
            await self._revise(tx)  # partners' origins feed the campaigns' frame-ancestors
            await tx.execute(
                "INSERT INTO partners (code, name, contact, origins, link_key, public_key, "
                "key_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                "contact = excluded.contact, origins = excluded.origins, "
                "link_key = excluded.link_key, public_key = excluded.public_key, "
                "key_since = excluded.key_since, updated_at = excluded.updated_at",
                partner.code, partner.name, partner.contact, json.dumps(partner.origins),
                partner.link_key, partner.public_key, partner.key_since, stamp, stamp,
            )  # fmt: skip
            await self._record(tx, audit)
        return exists is None

    async def remove_partner(self, code: str, audit: Audit | None = None) -> bool:
        """Remove a partner by code; False if there was none. The signatures that came
        through it keep its code."""
        async with self.backend.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM partners WHERE code = ?", code) is None:
                return False
            await self._revise(tx)  # its origins leave the campaigns' frame-ancestors
            await tx.execute("DELETE FROM partners WHERE code = ?", code)
            await self._record(tx, audit)
        return True

    async def partners(self) -> list[Partner]:
        rows = await self._fetch(
            "SELECT code, name, contact, origins, link_key, public_key, key_since FROM partners "
            "ORDER BY code"
        )
        return [
            Partner(code, name, contact, tuple(json.loads(origins)), key, public_key, since)
            for code, name, contact, origins, key, public_key, since in rows
        ]

    async def save_operator(
        self, email: str, password_hash: str, audit: Audit | None = None
    ) -> bool:
        """Create an operator or set their password. True if created."""
        async with self.backend.transaction() as tx:
            exists = await tx.fetchval("SELECT 1 FROM operators WHERE email = ?", email)
            await tx.execute(
                "INSERT INTO operators (email, password_hash, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash",
                email, password_hash, now(),
            )  # fmt: skip
            # A new password ends every session the old one opened.
            await tx.execute("DELETE FROM admin_sessions WHERE operator = ?", email)
            await self._record(tx, audit and audit._replace(
                action=audit.action + (".password" if exists else ".add")
            ))  # fmt: skip
        return exists is None

    async def operator_hash(self, email: str) -> str | None:
        found = await self._value("SELECT password_hash FROM operators WHERE email = ?", email)
        return None if found is None else str(found)

    async def operators(self) -> list[tuple[str, str]]:
        """(email, created_at) of every operator."""
        rows = await self._fetch("SELECT email, created_at FROM operators ORDER BY email")
        return [(email, created) for email, created in rows]

    async def remove_operator(self, email: str, audit: Audit | None = None) -> bool:
        async with self.backend.transaction() as tx:
            removed = await tx.execute("DELETE FROM operators WHERE email = ?", email) > 0
            for table in ("admin_sessions", "operator_passkeys", "recovery_codes"):
                await tx.execute(f"DELETE FROM {table} WHERE operator = ?", email)
            if removed:
                await self._record(tx, audit)
        return removed

    # Operators' sessions -------------------------------------------------------------------

    async def start_session(self, session: AdminSession, audit: Audit | None = None) -> None:
        async with self.backend.transaction() as tx:
            await tx.execute(
                "INSERT INTO admin_sessions (id, operator, client, created_at, last_seen, "
                "verified_at) VALUES (?, ?, ?, ?, ?, ?)",
                *session,
            )  # fmt: skip
            await self._record(tx, audit)

    async def session(self, session_id: str) -> AdminSession | None:
        """The session with this id, if its operator still exists."""
        rows = await self._fetch(
            f"SELECT {_SESSION} FROM admin_sessions s "
            "JOIN operators o ON o.email = s.operator WHERE s.id = ?",
            session_id,
        )
        return AdminSession(*rows[0]) if rows else None

    async def sessions(self) -> list[AdminSession]:
        """Every operator's sessions, the most recently seen first."""
        rows = await self._fetch(
            f"SELECT {_SESSION} FROM admin_sessions s ORDER BY s.last_seen DESC, s.id"
        )
        return [AdminSession(*row) for row in rows]

    async def touch_session(self, session_id: str, verified: bool = False) -> None:
        """Note that the session was used now (and, if `verified`, proven again now)."""
        stamp = now()
        column = ", verified_at = ?" if verified else ""
        params = (stamp, stamp) if verified else (stamp,)
        async with self.backend.transaction() as tx:
            await tx.execute(
                f"UPDATE admin_sessions SET last_seen = ?{column} WHERE id = ?",
                *params, session_id,
            )  # fmt: skip

    async def end_sessions(
        self, *, session_id: str | None = None, operator: str | None = None,
        before: tuple[str, str] | None = None, audit: Audit | None = None,
    ) -> int:  # fmt: skip
        """End one session, every session of an operator, or (`before` = (idle cutoff,
        absolute cutoff)) every session past its lifetime. The number ended."""
        params: tuple[str, ...]
        if session_id is not None:
            where, params = "id = ?", (session_id,)
        elif operator is not None:
            where, params = "operator = ?", (operator,)
        elif before is not None:
            where, params = "last_seen < ? OR created_at < ?", before
        else:
            raise ValueError("end which sessions?")
        async with self.backend.transaction() as tx:
            ended = await tx.execute(f"DELETE FROM admin_sessions WHERE {where}", *params)
            if ended:
                await self._record(tx, audit, ended)
        return ended

    # Passkeys and recovery codes -----------------------------------------------------------

    async def passkeys(self, operator: str) -> list[Passkey]:
        rows = await self._fetch(
            "SELECT credential_id, operator, public_key, sign_count, name, created_at, "
            "last_used FROM operator_passkeys WHERE operator = ? ORDER BY created_at, name",
            operator,
        )
        return [
            Passkey(c, o, bytes(k), int(n), name, at, used) for c, o, k, n, name, at, used in rows
        ]

    async def add_passkey(
        self, key: Passkey, codes: list[str] | None = None, audit: Audit | None = None
    ) -> None:
        """Store a passkey; with `codes` (hashes), they replace the operator's recovery codes."""
        async with self.backend.transaction() as tx:
            await tx.execute(
                "INSERT INTO operator_passkeys (credential_id, operator, public_key, sign_count, "
                "name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                key.credential_id, key.operator, key.public_key, key.sign_count, key.name,
                key.created_at,
            )  # fmt: skip
            if codes is not None:
                await self._replace_codes(tx, key.operator, codes)
            await self._record(tx, audit)

    async def replace_recovery_codes(
        self, operator: str, codes: list[str], audit: Audit | None = None
    ) -> None:
        async with self.backend.transaction() as tx:
            await self._replace_codes(tx, operator, codes)
            await self._record(tx, audit)

    async def _replace_codes(self, tx: Connection, operator: str, codes: list[str]) -> None:
        await tx.execute("DELETE FROM recovery_codes WHERE operator = ?", operator)
        stamp = now()
        for code in codes:
            await tx.execute(
                "INSERT INTO recovery_codes (code_hash, operator, created_at) VALUES (?, ?, ?)",
                code, operator, stamp,
            )  # fmt: skip

    async def recovery_codes_left(self, operator: str) -> int:
        n = await self._value("SELECT count(*) FROM recovery_codes WHERE operator = ?", operator)
        return int(n or 0)

    async def use_recovery_code(self, operator: str, code: str, audit: Audit | None = None) -> bool:
        """Spend a recovery code (its hash): True if it was the operator's and unused."""
        async with self.backend.transaction() as tx:
            used = await tx.execute(
                "DELETE FROM recovery_codes WHERE operator = ? AND code_hash = ?", operator, code
            )
            if used:
                await self._record(tx, audit)
        return used > 0

    async def passkey_used(self, credential_id: str, sign_count: int) -> None:
        async with self.backend.transaction() as tx:
            await tx.execute(
                "UPDATE operator_passkeys SET sign_count = ?, last_used = ? "
                "WHERE credential_id = ?",
                sign_count, now(), credential_id,
            )  # fmt: skip

    async def remove_passkey(
        self, operator: str, credential_id: str, audit: Audit | None = None
    ) -> bool:
        async with self.backend.transaction() as tx:
            removed = await tx.execute(
                "DELETE FROM operator_passkeys WHERE operator = ? AND credential_id = ?",
                operator, credential_id,
            )  # fmt: skip
            if removed:
                await self._record(tx, audit)
        return removed > 0

    async def reset_second_factor(self, operator: str, audit: Audit | None = None) -> int:
        """Remove an operator's passkeys and recovery codes and end their sessions: the
        server's owner does this for an operator who lost every key. The passkeys removed."""
        async with self.backend.transaction() as tx:
            removed = await tx.execute("DELETE FROM operator_passkeys WHERE operator = ?", operator)
            await tx.execute("DELETE FROM recovery_codes WHERE operator = ?", operator)
            await tx.execute("DELETE FROM admin_sessions WHERE operator = ?", operator)
            await self._record(tx, audit, removed)
        return removed

    async def audit(self, actor: str, action: str, campaign: str | None, detail: str) -> None:
        """Record who did what, for an action that changes nothing stored (an export, a
        link). `detail` never holds signer data."""
        async with self.backend.transaction() as tx:
            await self._record(tx, Audit(actor, action, campaign, detail))

    async def audit_log(self, limit: int = 200, actions: tuple[str, ...] = ()) -> list[AuditEntry]:
        """The newest entries first; only those of `actions` if given."""
        where = f"WHERE action IN ({', '.join('?' * len(actions))}) " if actions else ""
        rows = await self._fetch(
            f"SELECT at, actor, action, campaign, detail FROM audit_log {where}"
            "ORDER BY id DESC LIMIT ?",
            *actions, limit,
        )  # fmt: skip
        return [AuditEntry(*row) for row in rows]
