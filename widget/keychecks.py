"""The keys a database's hashes were made with. Every address, withdrawal code and
confirmation link is stored only as a hash under the secret key (and, with
PETITION_WIDGET_DOMAIN_KEY, each address's domain under the domain key). Started with another
key, the service would find none of them and say nothing: a signer's withdrawal code would be
refused, deleting a signer by address would answer "no signature" with the signature still
there, and a repeated address would count as a new signer in exports. A SQLite install that
lost its keys folder (a database restored without it) would make a new key and do just that.

So the database records a check value of each key when it first meets it (an HMAC under the
key of a fixed text, never the key), and a start or a command with another key is refused
before anything is written, and no new secret key is made for a database that records one.
The check value gives a copy of the database nothing it did not have: each keyed hash of an
address its thief signed with themselves already tests a guess of the key as well."""

from __future__ import annotations

import base64
import hmac
import logging

from widget import signing
from widget.settings import (
    ENV_PREFIX,
    KEY_MIN_LENGTH,
    Settings,
    SettingsError,
    database_file,
    is_postgres,
)
from widget.store import Store, open_store
from widget.store.keys import DOMAIN_KEY_CHECK, PUBLIC_KEY_PREFIX, SECRET_KEY_CHECK

log = logging.getLogger(__name__)

CONTEXT = b"key-check:"
UNCHANGED = "Nothing was changed."


def check_value(key: str) -> bytes:
    return signing.keyed_hash(key, CONTEXT, "petition-widget")


async def resolved(store: Store, settings: Settings) -> Settings:
    """`settings` resolved against the database `store` has open: a secret key is made only
    for a database that records none, and every key must be the one the database records."""
    settings = settings.validated()
    recorded = await store.key_checks()
    if (
        SECRET_KEY_CHECK in recorded
        and not settings.secret_key
        and not is_postgres(settings.database)
        and not settings.secret_file.exists()
    ):
        raise SettingsError(
            f"the secret key this database was written with is missing: "
            f"{settings.secret_file} does not exist. Every address, withdrawal code and "
            "confirmation link is stored as a hash under that key, and a new key would "
            "silently find none of them (signers' withdrawal codes and deleting a signer by "
            f"address would stop working). Put the keys folder {settings.key_folder} back from "
            f"your copy of it, or set {ENV_PREFIX}KEYS_DIR to where it is, or "
            f"{ENV_PREFIX}SECRET_KEY to the key. {UNCHANGED}"
        )
    settings = settings.with_secret()
    if len(settings.secret) < KEY_MIN_LENGTH:
        _refuse_or_warn_short_secret(settings, written=SECRET_KEY_CHECK in recorded)
    await verify(store, settings)
    return settings


def _refuse_or_warn_short_secret(settings: Settings, written: bool) -> None:
    """A short secret key can be guessed from a copy of the database (each stored hash of an
    address tests a guess), and with it every address tested. A new database is refused one;
    a database already written with one keeps it, since its hashes cannot move to a new key,
    and every start says so."""
    why = (
        "a key that short can be guessed from a stolen copy of the database, and with it any "
        "address tested against the stored hashes"
    )
    if not written:
        raise SettingsError(
            f"{ENV_PREFIX}SECRET_KEY: at least {KEY_MIN_LENGTH} characters: {why}. Make "
            'one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))". '
            f"{UNCHANGED}"
        )
    log.warning(
        "%sSECRET_KEY is shorter than %d characters: %s. This database's hashes were made with "
        "it and cannot move to a new key; guard its backups all the more",
        ENV_PREFIX, KEY_MIN_LENGTH, why,
    )  # fmt: skip


async def checked(settings: Settings) -> Settings:
    """`resolved`, on a store of its own: for a command or a server about to start. A bad
    setting is refused before the database is opened (or made)."""
    settings = settings.validated()
    new_file = not is_postgres(settings.database) and not database_file(settings.database).exists()
    if new_file and settings.secret_key and len(settings.secret_key) < KEY_MIN_LENGTH:
        _refuse_or_warn_short_secret(settings, written=False)  # before the file is made
    store = open_store(
        settings.database, settings.sqlite_synchronous, pool_size=1,
        timeout=settings.db_timeout_seconds,
    )  # fmt: skip
    await store.open()
    try:
        return await resolved(store, settings)
    finally:
        await store.close()


async def verify(store: Store, settings: Settings) -> None:
    """Record the check value of each key the database does not know yet; SettingsError if a
    key is not the one the database records."""
    value = check_value(settings.secret)
    if not hmac.compare_digest(await store.claim_key_check(SECRET_KEY_CHECK, value), value):
        where = "" if is_postgres(settings.database) else f", or else {settings.secret_file}"
        raise SettingsError(
            f"the secret key ({ENV_PREFIX}SECRET_KEY{where}) is not the key this database "
            "was written with. Every address, withdrawal code and confirmation link is stored "
            "as a hash under that key: with another, signers' withdrawal codes and deleting a "
            "signer by address would silently stop working, and a repeated address would "
            "count as a new signer in exports. Give the service the key it was started with; "
            f"stored hashes cannot be moved to a new key. {UNCHANGED}"
        )
    if settings.domain_key is None:
        return
    value = check_value(settings.domain_key)
    if not hmac.compare_digest(await store.claim_key_check(DOMAIN_KEY_CHECK, value), value):
        raise SettingsError(
            f"{ENV_PREFIX}DOMAIN_KEY is not the key this database's hashes of email domains "
            "were made with: invalidating by email domain would silently miss every signature "
            "stored before. Set it back to that key, or clear the old hashes with "
            f"`petition-widget forget-domains` (the next start records the new key). {UNCHANGED}"
        )


async def note_public_key(store: Store, public: bytes) -> int:
    """Record the operator public key the service seals to, if it is new, and say at start when
    rows are sealed to several: an export then needs the private key of each, and an operator
    who gave the server a new public key must not throw the old private key away (said from
    the first start with the new key, before anything is sealed to it). How many keys are
    recorded."""
    await store.claim_key_check(PUBLIC_KEY_PREFIX + base64.b64encode(public).decode(), public)
    keys = len(await store.public_keys_sealed_to())
    if keys > 1:
        log.warning(
            "this database has been given %d different operator public keys: each signature "
            "opens only with the private key of the time it was made, so keep every one "
            "(--private-key once for each; several key files on the admin's Open an export)",
            keys,
        )
    return keys
