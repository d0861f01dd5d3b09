"""Rate limits on signing: per client (a keyed hash of its address) and per campaign, kept in
memory for one instance or in Redis when several instances share one database."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from starlette.requests import Request

from widget.i18n import N_
from widget.settings import ENV_PREFIX, Settings, SettingsError

log = logging.getLogger(__name__)

OFF = "off"
LIMITS_VARIABLE = ENV_PREFIX + "RATE_LIMITS"
STORAGE_VARIABLE = ENV_PREFIX + "RATE_LIMIT_STORAGE"
MEMORY_SCHEMES = {"memory"}
REDIS_SCHEMES = {"redis", "rediss"}
KEY_PREFIX = "petition-widget"
SALT_CONTEXT = "ratelimit:"
WARN_EVERY_SECONDS = 60.0
REDIS_SECONDS = 0.25

FROM_CLIENT = N_(
    "Too many signatures from your network right now. Please wait a few minutes and try again."
)
FOR_CAMPAIGN = N_("Too many people are signing right now. Please wait a minute and try again.")


@dataclass(frozen=True)
class SignLimits:
    """The parsed PETITION_WIDGET_RATE_LIMITS; a part left out is not limited."""

    client: RateLimitItem | None
    campaign: RateLimitItem | None


@dataclass(frozen=True)
class Wait:
    """A refused attempt: the reader's message and the seconds until a retry can succeed."""

    message: str
    retry_after: int


def parse_limits(spec: str) -> SignLimits | None:
    """`client=N/period;campaign=N/period` (either part may be left out), or `off` (None)."""
    if spec.strip().lower() == OFF:
        return None
    found: dict[str, RateLimitItem] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or name not in ("client", "campaign") or name in found:
            raise _bad_limits(spec)
        try:
            items = parse_many(value)
        except ValueError:
            raise _bad_limits(spec) from None
        if len(items) != 1 or items[0].amount < 1:
            raise _bad_limits(spec)
        found[name] = items[0]
    if not found:
        raise _bad_limits(spec)
    return SignLimits(client=found.get("client"), campaign=found.get("campaign"))


def _bad_limits(spec: str) -> SettingsError:
    return SettingsError(
        f"{LIMITS_VARIABLE}: expected client=N/period;campaign=N/period "
        f"(e.g. client=30/10 minutes;campaign=6000/minute) or off, got {spec!r}"
    )


def client_address(request: Request) -> str:
    """Who the client is: the socket address, which uvicorn rewrites from X-Forwarded-For
    only for the proxies in forwarded-allow-ips. Never read the header here."""
    return request.client.host if request.client else ""


def _network(address: str) -> str:
    """An IPv6 host usually holds a whole /64 and can change address within it at will, so a
    limit per IPv6 address would limit nothing: an IPv6 client is its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class ClientKeys:
    """HMAC-SHA256(salt of the day, address): a client key that says nothing about the address
    and changes every day (UTC). Only today's salt is kept; none is ever stored.

    With one instance the salt is random and lives only in this process's memory. Instances
    that share a Redis store must agree on a client's key, so there the salt is derived from
    the service's secret key and the date instead. The trade-off: whoever holds both the
    secret key and a copy of Redis could hash every IPv4 address and so tell which addresses
    signed in the last window (Redis keeps a key only for its window, minutes long). The salt
    is still never written anywhere, and without the secret key a day's keys cannot be linked
    to another day's."""

    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret.encode() if secret else None
        self._day: date | None = None
        self._salt = b""

    def salt(self, day: date) -> bytes:
        if day != self._day:
            if self._secret is None:
                salt = secrets.token_bytes(32)
            else:
                message = (SALT_CONTEXT + day.isoformat()).encode()
                salt = hmac.new(self._secret, message, hashlib.sha256).digest()
            self._day, self._salt = day, salt  # yesterday's salt is gone from here on
        return self._salt

    def key(self, address: str, day: date | None = None) -> str:
        day = day or datetime.now(UTC).date()
        digest = hmac.new(self.salt(day), _network(address).encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


def is_shared(storage_uri: str) -> bool:
    """Whether a limit storage setting names Redis (shared by instances) rather than memory;
    a SettingsError if it names neither."""
    scheme = urlsplit(storage_uri).scheme.lower()
    if scheme not in MEMORY_SCHEMES | REDIS_SCHEMES:
        raise SettingsError(
            f"{STORAGE_VARIABLE}: expected memory:// or redis://HOST:PORT/DB, got {storage_uri!r}"
        )
    return scheme in REDIS_SCHEMES


def limit_storage(storage_uri: str) -> tuple[Any, Any]:
    """An async `limits` storage for the setting, and the Redis connection pool it uses (None
    in memory), which its owner disconnects on close."""
    options: dict[str, Any] = {"wrap_exceptions": True}
    pool: Any = None
    if is_shared(storage_uri):
        import redis.asyncio  # only needed, and only installed, for several instances

        # Our own pool, so that close() can release its connections.
        # A stalled Redis must not stall signing: every call gives up well under a second
        # (redis-py's own default is 10 s, or none at all before redis-py 8), and the limits
        # fail open (signing) or fall back to memory (logins).
        pool = redis.asyncio.ConnectionPool.from_url(
            storage_uri, socket_timeout=REDIS_SECONDS, socket_connect_timeout=REDIS_SECONDS
        )
        options.update(implementation="redispy", connection_pool=pool, key_prefix=KEY_PREFIX)
    try:
        return storage_from_string("async+" + storage_uri, **options), pool
    except ConfigurationError as exc:
        raise SettingsError(f"{STORAGE_VARIABLE}: {exc}") from None


class SignLimiter:
    """Limits on signing attempts per client and on signatures per campaign.

    The moving window counts exactly the hits of the last period: no double burst at the edge
    of a fixed window, and (unlike an elastic expiry, which limits 5 dropped anyway) refused
    attempts do not push the window on, so readers who share an address with a bot get back
    in once its burst has aged out. It keeps one timestamp per hit, which is small for the
    per-client limit and a few thousand entries per busy campaign at most."""

    def __init__(
        self,
        limits: SignLimits | None,
        storage_uri: str = "memory://",
        secret: str | None = None,
    ) -> None:
        self.limits = limits
        self.keys = ClientKeys(secret if is_shared(storage_uri) else None)
        self._pool: Any = None
        self._limiter: MovingWindowRateLimiter | None = None
        self._warned_at = -math.inf
        if limits is None:
            return
        storage, self._pool = limit_storage(storage_uri)
        self._limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> SignLimiter:
        return cls(
            parse_limits(settings.rate_limits), settings.rate_limit_storage, settings.secret_key
        )

    async def attempt(self, address: str) -> Wait | None:
        """Count one signing attempt from this address; a Wait when it is one too many."""
        if self._limiter is None or self.limits is None or self.limits.client is None:
            return None
        return await self._hit(self.limits.client, FROM_CLIENT, "client", self.keys.key(address))

    async def admit(self, slug: str) -> Wait | None:
        """Count one valid signature for this campaign; a Wait when it is one too many."""
        if self._limiter is None or self.limits is None or self.limits.campaign is None:
            return None
        return await self._hit(self.limits.campaign, FOR_CAMPAIGN, "campaign", slug)

    async def _hit(self, item: RateLimitItem, message: str, *key: str) -> Wait | None:
        assert self._limiter is not None
        try:
            if await self._limiter.hit(item, "sign", *key):
                return None
            stats = await self._limiter.get_window_stats(item, "sign", *key)
        except StorageError as exc:
            # Fail open: a Redis outage must not stop real readers from signing. The token,
            # the fill time and the honeypot still apply.
            self._warn(exc)
            return None
        return Wait(message, max(1, math.ceil(stats.reset_time - time.time())))

    def _warn(self, exc: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("rate-limit storage unavailable, signing unlimited: %s", exc)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
