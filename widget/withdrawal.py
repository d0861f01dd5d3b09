"""Withdrawal codes: each signature gets a random code, shown once to the reader who made it,
that removes it at /c/{slug}/withdraw without an email or an account. Only a keyed hash of the
code is stored, so neither the database nor its backups can turn a row back into its code.

The no-JavaScript thank-you page is reached by a redirect; the code travels to it inside a
receipt, a secret box under a key derived from the secret key that opens for a few minutes
only, so the address in the reader's history does not hold the code once the page is gone."""

from __future__ import annotations

import json
import secrets
import time

from nacl.encoding import URLSafeBase64Encoder
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from widget.i18n import N_
from widget.signing import derived_key, keyed_hash

# Crockford's base32: digits and capitals without I, L, O and U, so a code reads aloud and
# copies by hand without look-alikes; I and L typed by mistake count as 1, O as 0.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
assert len(ALPHABET) == 32
LENGTH = 16  # 16 symbols of 5 bits: 80 bits, drawn from the system's secure random source
GROUP = 4
_TYPED = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
KEY_CONTEXT = b"petition-widget.withdraw-key.v1"
RECEIPT_CONTEXT = b"petition-widget.withdraw-receipt.v1"
RECEIPT_SECONDS = 10 * 60

WITHDRAWN = N_("Your signature has been withdrawn. It no longer counts and its details are gone.")
NO_MATCH = N_(
    "This code does not match a signature on this petition. Check it and try again: codes "
    "have 16 letters and digits."
)
MALFORMED = N_("Enter the code you were given: 16 letters and digits, like 7KQM-3X9D-A2FH-VN4T.")


def new_code() -> str:
    """A fresh code, grouped for reading: 7KQM-3X9D-A2FH-VN4T."""
    # 32 symbols: each random byte's low five bits pick one without bias, from one read of
    # the secure source rather than sixteen.
    code = "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(LENGTH))
    return display(code)


def display(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(raw: str) -> str:
    """The code as typed (any case, spaces or hyphens, look-alikes); raises ValueError with a
    reader's message if it cannot be a code."""
    code = "".join(raw.split()).replace("-", "").upper().translate(_TYPED)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        raise ValueError(MALFORMED)
    return code


def key(secret: str, code: str) -> bytes:
    """The keyed hash stored with the signature: a copy of the database cannot test codes."""
    return keyed_hash(secret, KEY_CONTEXT, normalise(code))


class Receipts:
    """The code on its way from the signing redirect to the no-JavaScript thank-you page."""

    def __init__(self, secret: str, seconds: int = RECEIPT_SECONDS) -> None:
        self._box = SecretBox(derived_key(secret, RECEIPT_CONTEXT))
        self.seconds = seconds

    def issue(self, slug: str, code: str) -> str:
        plain = json.dumps([slug, code, int(time.time())]).encode()
        return self._box.encrypt(plain, encoder=URLSafeBase64Encoder).decode().rstrip("=")

    def open(self, receipt: str, slug: str) -> str:
        """The code in a receipt for this campaign made in the last few minutes, else ""."""
        if not receipt or len(receipt) > 200:
            return ""
        try:
            padded = receipt + "=" * (-len(receipt) % 4)
            made_for, code, made_at = json.loads(
                self._box.decrypt(padded.encode(), encoder=URLSafeBase64Encoder)
            )
        except (CryptoError, ValueError, TypeError):
            return ""
        if made_for != slug or not 0 <= time.time() - made_at <= self.seconds:
            return ""
        return str(code)
