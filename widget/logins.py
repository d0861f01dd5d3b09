"""Limits on password checks (logging in, and confirming a dangerous act) that slow a guesser
down without ever locking the account's owner out, and the check itself, off the event loop.

Three counts of failed checks, in the same storage as the signing limits (memory, or Redis
shared by every instance):

- per network and account (an IPv6 client is its /64): after 5 failures in a minute that
  network waits for the account, then longer as failures go on (10 in 15 minutes, 20 in an
  hour, 50 in a day), never for ever. This is what stops a guesser.
- per network, whatever the account: the same growing waits, looser (20/minute, 60/hour,
  300/day), for a guesser who tries many accounts.
- per account, from anywhere: never a refusal, only a delay before the answer, growing with
  the failures of the last 15 minutes to at most MAX_ACCOUNT_DELAY seconds. A guesser on
  other networks slows every check on the account but cannot stop its owner, who logs in
  from their own network after at most that delay.

Waits are refusals (429 with Retry-After) that cost no password check. Network keys are the
signing limits' daily keyed hashes; account keys are keyed hashes too, so Redis holds no
address of either kind."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from limits import RateLimitItem, parse, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from widget import operators
from widget.ratelimit import ClientKeys, is_shared, limit_storage

log = logging.getLogger(__name__)

PER_ACCOUNT_NETWORK = parse_many("5/minute;10/15 minutes;20/hour;50/day")
PER_NETWORK = parse_many("20/minute;60/hour;300/day")
ACCOUNT_WINDOW = parse("10000/15 minutes")  # only counted, never refused
MAX_ACCOUNT_DELAY = 8.0
NAMESPACE = "login"


def account_delay(failures: int) -> float:
    """Seconds to hold an answer for an account with this many recent failures: none for the
    first five, then 0.25 s doubling, at most MAX_ACCOUNT_DELAY."""
    if failures < 5:
        return 0.0
    return float(min(MAX_ACCOUNT_DELAY, 0.25 * 2 ** (failures - 5)))


class LoginLimiter:
    def __init__(self, storage_uri: str = "memory://", secret: str = "") -> None:
        shared = is_shared(storage_uri)
        self.keys = ClientKeys(secret if shared else None)
        self._account_salt = hashlib.sha256(b"login-account:" + secret.encode()).digest()
        storage, self._pool = limit_storage(storage_uri)
        self._limiter = MovingWindowRateLimiter(storage)
        # If Redis fails, the limits go on in this process's memory rather than lapse.
        self._fallback = MovingWindowRateLimiter(limit_storage("memory://")[0])
        self._warned_at = -math.inf
        # scrypt takes tens of milliseconds of CPU and 16 MiB: one check at a time, in a thread
        # of its own, so that a flood of logins queues there instead of stalling every reader.
        self._checks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="password-check")

    async def check_password(self, password: str, stored: str | None) -> bool:
        """operators.verify_password, in the password thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._checks, operators.verify_password, password, stored)

    def _account(self, email: str) -> str:
        return hmac.new(self._account_salt, email.encode(), hashlib.sha256).hexdigest()[:32]

    async def wait(self, email: str, address: str) -> int:
        """Seconds this network must wait before a check of this account's password (0: it
        may go ahead)."""
        network, account = self.keys.key(address), self._account(email)
        waits = [
            *(await self._waits(PER_ACCOUNT_NETWORK, "pair", network, account)),
            *(await self._waits(PER_NETWORK, "network", network)),
        ]
        return max(waits, default=0)

    async def delay(self, email: str) -> float:
        """Seconds to hold this check's answer, for the account's recent failures."""
        account = self._account(email)
        stats = await self._call("get_window_stats", ACCOUNT_WINDOW, "account", account)
        failures = ACCOUNT_WINDOW.amount - stats.remaining
        return account_delay(failures)

    async def failed(self, email: str, address: str) -> None:
        network, account = self.keys.key(address), self._account(email)
        for item in PER_ACCOUNT_NETWORK:
            await self._call("hit", item, "pair", network, account)
        for item in PER_NETWORK:
            await self._call("hit", item, "network", network)
        await self._call("hit", ACCOUNT_WINDOW, "account", account)

    async def _waits(self, items: list[RateLimitItem], *key: str) -> list[int]:
        found = []
        for item in items:
            stats = await self._call("get_window_stats", item, *key)
            if stats.remaining <= 0:
                found.append(max(1, math.ceil(stats.reset_time - time.time())))
        return found

    async def _call(self, method: str, item: RateLimitItem, *key: str) -> Any:
        try:
            return await getattr(self._limiter, method)(item, NAMESPACE, *key)
        except StorageError as exc:
            now = time.monotonic()
            if now - self._warned_at >= 60:
                self._warned_at = now
                log.warning("login-limit storage unavailable, counting in memory: %s", exc)
            return await getattr(self._fallback, method)(item, NAMESPACE, *key)

    async def close(self) -> None:
        self._checks.shutdown(wait=False)
        if self._pool is not None:
            await self._pool.disconnect()
