"""One Settings object, from CLI flags over PETITION_WIDGET_* environment variables over
defaults. Every setting is declared once, with its default and help text, on Settings."""

from __future__ import annotations

import os
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "PETITION_WIDGET_"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


# The shortest secret or domain key taken: a shorter one could be guessed from a stolen copy of
# the database, each stored hash testing a guess. The keys made here are 64 characters.
KEY_MIN_LENGTH = 32


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def _type_of(setting: Field[Any]) -> type:
    return {"int": int, "float": float, "bool": bool}.get(str(setting.type).split(" ")[0], str)


def _coerce(setting: Field[Any], raw: Any) -> Any:
    kind = _type_of(setting)
    if raw is None or kind is str:
        return raw
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"{ENV_PREFIX}{setting.name.upper()}: expected true or false")
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise SettingsError(
            f"{ENV_PREFIX}{setting.name.upper()}: expected a {kind.__name__}, got {raw!r}"
        ) from None


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once with its default and help text."""

    host: str = _setting("127.0.0.1", "Address to listen on.")
    port: int = _setting(8000, "Port to listen on.")
    workers: int = _setting(1, "Processes `serve` runs (one per core), each with its own writer.")
    pin_workers: bool = _setting(
        False,
        "Pin each uvicorn process `serve` runs to a CPU of its own (Linux): its event loop and "
        "SQLite thread then share a core, and workers do not meet (signing about 15 % faster "
        "here). Leave off where other work shares the cores.",
    )
    server: str = _setting(
        "uvicorn", "The HTTP server `serve` runs: uvicorn, or granian (the `granian` extra)."
    )
    database: str = _setting(
        "./petition-widget.db",
        "The SQLite database file (a path, or sqlite:///path), or a PostgreSQL URL "
        "(postgresql://user@host:5432/db, with ?schema=NAME for a schema other than public) "
        "that several instances can share.",
    )
    db_pool_size: int = _setting(
        5,
        "PostgreSQL only: the most connections one instance opens (one writes signatures, the "
        "others read). N instances open up to N times this; keep it under the server's "
        "max_connections.",
    )
    db_timeout_seconds: float = _setting(
        10.0,
        "The longest any wait on the database may take: connecting, a connection from the "
        "pool, each statement, a signing batch as a whole (SQLite: waiting for another "
        "process's lock). Past it the reader is told to try again. A command that purges or "
        "invalidates a very large campaign may need more.",
    )
    sqlite_synchronous: str = _setting(
        "FULL",
        "SQLite's synchronous mode: FULL (an acknowledged signature survives a power cut) or "
        "NORMAL (it survives a crash of the service, and the last commits may be lost on a "
        "power cut). Group commits make FULL affordable.",
    )
    secret_key: str | None = _setting(
        None,
        "Key that signs form tokens and keys the hashes of addresses, at least 32 characters. "
        "Default with SQLite: generated on first run into the keys folder "
        "(KEYS_DIR/secret-key). Keep it out of the database's backups. Required with "
        "PostgreSQL, the same on every instance.",
    )
    public_key: str | None = _setting(
        None,
        "The operator's public key (base64, from `petition-widget keys generate`): names, "
        "emails and postal codes are sealed to it. Default with SQLite: a key pair made in the "
        "keys folder on first run (operator-public.key and operator-private.key); move the "
        "private one off the server. Required with PostgreSQL, the same on every instance.",
    )
    domain_key: str | None = _setting(
        None,
        "A key of its own for hashing signers' email domains, so that an operator can "
        "invalidate a flood from one domain. Unset (the default): no domain is kept, and "
        "invalidation by domain is off. Unsetting it stops new hashes; `petition-widget "
        "forget-domains` clears the stored ones. At least 32 characters.",
    )
    keys_dir: str = _setting(
        "",
        "The folder (owner-only) for the keys a new SQLite install makes for itself. Default: "
        "NAME.keys beside the database file NAME.db. Put it where the database's backups do "
        "not reach, or set SECRET_KEY and PUBLIC_KEY instead.",
    )
    public_url: str | None = _setting(
        None,
        "The service's public origin (https://petitions.example.org). Once set, requests "
        "for any other host name get 400 (health checks excepted). Required to serve on an "
        "address other than loopback; unset, the origin is taken from each request.",
    )
    min_fill_seconds: float = _setting(
        2.0, "A form submitted faster than this after it was shown is refused as automated."
    )
    token_max_age: int = _setting(6 * 3600, "Seconds a form stays valid after it was shown.")
    max_body_bytes: int = _setting(16 * 1024, "Largest request body accepted, in bytes.")
    counter_cache_seconds: float = _setting(
        2.0,
        "How long a count read from the database is served before it is read again. The "
        "instance that takes a signature counts it at once.",
    )
    forwarded_allow_ips: str = _setting(
        "",
        "Comma-separated proxy addresses whose X-Forwarded-* headers are trusted (uvicorn's "
        "forwarded-allow-ips). Empty: none; the socket address is the client.",
    )
    access_log: bool = _setting(
        False, "Write uvicorn's access log. It names client addresses, so it is off by default."
    )
    rate_limits: str = _setting(
        "client=30/10 minutes;campaign=6000/minute",
        "Signing limits: attempts per client address (generous, for readers who share an "
        "office or campus address) and signatures per campaign; `off` for load tests.",
    )
    rate_limit_storage: str = _setting(
        "memory://",
        "Where the signing limits are counted: memory:// for one instance, "
        "redis://HOST:PORT/DB when several instances share one database.",
    )

    header_timeout_seconds: float = _setting(
        10.0,
        "A client must send a request's headers within this many seconds of connecting (or "
        "of the request's first byte on a kept-alive connection), or it gets 408 and is "
        "disconnected: slow clients cannot hold connections open.",
    )
    body_timeout_seconds: float = _setting(
        20.0, "A request's body must arrive within this many seconds, or it gets 408."
    )
    max_header_bytes: int = _setting(
        16 * 1024, "Largest request headers accepted, in bytes (431 beyond)."
    )
    keep_alive_seconds: int = _setting(
        5, "An idle kept-alive connection is closed after this many seconds."
    )
    max_connections: int = _setting(
        500,
        "Connections and requests served at once; beyond, new ones get 503 at once. Keep it "
        "under the process's file limit (ulimit -n).",
    )
    graceful_shutdown_seconds: int = _setting(
        10,
        "On SIGTERM, requests in progress get this many seconds to finish; then the process "
        "exits, whatever slow clients are still connected.",
    )
    admin_idle_minutes: int = _setting(
        60, "An operator's session ends after this many minutes without a request."
    )
    admin_session_hours: int = _setting(
        8, "An operator's session ends this many hours after logging in, however busy."
    )
    admin_confirm_minutes: int = _setting(
        5,
        "Exports, deleting signers, purging, invalidating and changing a partner's key or "
        "origins ask for the password again unless it was given within this many minutes.",
    )

    smtp_url: str | None = _setting(
        None,
        "The SMTP server that sends confirmation emails, for campaigns with confirm_email: "
        "smtp://USER:PASSWORD@HOST:587 (STARTTLS, required) or smtps://USER:PASSWORD@HOST:465 "
        "(TLS); percent-encode special characters in the user and password. ?starttls=off "
        "only for a relay on localhost.",
    )
    smtp_ca_file: str | None = _setting(
        None, "A file of CA certificates to verify the SMTP server with, instead of the system's."
    )
    mail_from: str | None = _setting(
        None, "The From address of confirmation emails (required with SMTP_URL)."
    )
    confirm_days: int = _setting(
        7,
        "A confirmation link works for this many days; signatures still unconfirmed then are "
        "deleted.",
    )

    admin_require_passkey: bool = _setting(
        False,
        "Every operator must use a passkey: one who has none is asked to enrol one before "
        "anything else in the admin.",
    )

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit overrides (CLI flags) that are not None."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        by_name = {f.name: f for f in fields(cls)}
        for setting in by_name.values():
            raw = env.get(ENV_PREFIX + setting.name.upper())
            if raw is not None:
                values[setting.name] = _coerce(setting, raw)
        for name, value in overrides.items():
            if name not in by_name:
                raise SettingsError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = _coerce(by_name[name], value)
        return cls(**values)

    def resolve(self) -> Settings:
        """Every setting checked once, at start, and the secret key filled in: the settings the
        app and the commands run with. A bad value fails here, naming its variable, rather
        than at the first request that needs it. (widget/keychecks.py resolves them against
        the database, which says whether a key may be made.)"""
        return self.validated().with_secret()

    def validated(self) -> Settings:
        """Every setting checked, the secret key not yet filled in."""
        for name in (
            "token_max_age", "max_body_bytes", "db_pool_size", "admin_idle_minutes",
            "admin_session_hours", "admin_confirm_minutes", "max_header_bytes",
            "keep_alive_seconds", "max_connections", "graceful_shutdown_seconds", "confirm_days",
            "workers",
        ):  # fmt: skip
            if getattr(self, name) < 1:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}: must be at least 1")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"{ENV_PREFIX}PORT: must be 1 to 65535, not {self.port}")
        if self.server not in ("uvicorn", "granian"):
            raise SettingsError(f"{ENV_PREFIX}SERVER: uvicorn or granian, not {self.server!r}")
        for name in ("min_fill_seconds", "counter_cache_seconds"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}: must not be negative")
        for name in ("header_timeout_seconds", "body_timeout_seconds", "db_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}: must be more than 0")
        settings = self
        if self.public_url:
            from widget import origins

            public = origins.normalise(self.public_url)
            if public is None:
                raise SettingsError(
                    f"{ENV_PREFIX}PUBLIC_URL: expected https://HOST or https://HOST:PORT, "
                    f"got {self.public_url!r}"
                )
            settings = replace(self, public_url=public)
        if not is_postgres(self.database):
            from widget.store.sqlite import SQLiteBackend

            SQLiteBackend(str(database_file(self.database)), self.sqlite_synchronous)
        from widget.ratelimit import parse_limits

        parse_limits(self.rate_limits)
        if self.smtp_url:
            from widget.mail import settings_problem

            problem = settings_problem(self.smtp_url, self.mail_from)
            if problem:
                raise SettingsError(ENV_PREFIX + problem)
        return settings

    def with_secret(self) -> Settings:
        """These settings with secret_key filled in from the key file, made on first run."""
        if self.domain_key is not None and len(self.domain_key) < KEY_MIN_LENGTH:
            raise SettingsError(f"{ENV_PREFIX}DOMAIN_KEY: at least {KEY_MIN_LENGTH} characters")
        if self.domain_key is not None and self.domain_key == self.secret_key:
            # Its point is to be dropped on its own: the secret key must not open it.
            raise SettingsError(f"{ENV_PREFIX}DOMAIN_KEY: must differ from the secret key")
        if self.secret_key:
            return self
        if is_postgres(self.database):
            # A key made by each instance would let one address sign once per instance.
            raise SettingsError(
                f"{ENV_PREFIX}SECRET_KEY: required with PostgreSQL; give every instance the "
                "same key (there is no file beside the database to keep one in)"
            )
        return replace(self, secret_key=load_or_create_secret(self))

    @property
    def secret(self) -> str:
        """The secret key, once `resolve()` has filled it in."""
        if not self.secret_key:
            raise SettingsError(f"{ENV_PREFIX}SECRET_KEY: not resolved (call resolve())")
        return self.secret_key

    @property
    def key_folder(self) -> Path:
        """Where the keys this install makes for itself are kept."""
        if self.keys_dir:
            return Path(self.keys_dir)
        db = database_file(self.database)
        return db.with_name(db.name.removesuffix(".db") + ".keys")

    @property
    def secret_file(self) -> Path:
        """The secret key's file (files.key_file)."""
        from widget import files

        return files.key_file(self, "secret-key")


def is_postgres(database: str) -> bool:
    """Whether a database setting names a PostgreSQL server rather than a SQLite file."""
    return database.startswith(POSTGRES_SCHEMES)


def database_file(database: str) -> Path:
    """The SQLite file a database setting names (a path, or sqlite:///path)."""
    if is_postgres(database):
        raise SettingsError(f"{ENV_PREFIX}DATABASE: a PostgreSQL database has no file")
    return Path(database.removeprefix("sqlite:///"))


def load_or_create_secret(settings: Settings) -> str:
    """The secret key from its file, which the first run makes (files.read_or_create_secret)."""
    from widget import files

    try:
        return files.read_or_create_secret(settings.secret_file)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
