"""Operator accounts: addresses and scrypt password hashes with a salt per user."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from email_validator import EmailNotValidError, validate_email

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
# scrypt cost: about 16 MiB and a few tens of milliseconds per check.
_N, _R, _P = 2**14, 8, 1


class OperatorError(ValueError):
    """An operator address or password that cannot be used; the message says why."""


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise OperatorError(f"{raw!r} is not a valid email address") from None


def check_password_rules(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise OperatorError(f"the password must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise OperatorError(f"the password must be at most {PASSWORD_MAX} characters")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$hash, with a fresh random salt."""
    check_password_rules(password)
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown accounts against, so that they take as long as known ones."""
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str | None) -> bool:
    """True if the password matches; an unknown account (None) costs the same time."""
    unknown = stored is None
    if stored is None:
        stored, password = _dummy_hash(), password + "\x00never"
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password[:PASSWORD_MAX], base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest)) and not unknown
