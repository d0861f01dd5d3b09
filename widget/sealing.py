"""Personal data sealed at rest: names, email and postal code are sealed with the operator's
public key (X25519 + XSalsa20-Poly1305, libsodium). The server can seal but never open them;
opening needs the private key, which belongs on the operator's own machine.

A signature is sealed in a *window*: the Sealer makes one ephemeral key pair per recipient key
and second (at most WINDOW_ROWS rows), keeps only the shared key libsodium derives from it
(`crypto_box_beforenm`), seals each row with it and a fresh random nonce (`crypto_box_afternm`),
and drops the shared key when the window ends. A row is `WINDOWED` + the ephemeral public key +
the nonce + the box; 20 times cheaper than a sealed box (`crypto_box_seal`: a new key pair and
a key exchange per row), which rows sealed before, and `seal_personal`, still are; the Opener
opens both. docs/privacy.md gives the security argument."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nacl.bindings import (
    crypto_box_afternm,
    crypto_box_beforenm,
    crypto_box_keypair,
    crypto_box_NONCEBYTES,
    crypto_box_open_afternm,
    crypto_box_PUBLICKEYBYTES,
)
from nacl.encoding import Base64Encoder
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from widget import files
from widget.cache import BoundedCache
from widget.settings import ENV_PREFIX, Settings, is_postgres
from widget.signing import Signature

log = logging.getLogger(__name__)

PERSONAL_FIELDS = ("first_name", "last_name", "email", "postal_code")
WINDOWED = b"pwb1"  # the first bytes of a row sealed in a window (a sealed box has no mark)
WINDOW_SECONDS = 1.0
WINDOW_ROWS = 1024
_HEAD = len(WINDOWED) + crypto_box_PUBLICKEYBYTES + crypto_box_NONCEBYTES


class SealingKeyError(ValueError):
    """A key is missing, unreadable or of the wrong kind; the message says which."""


@dataclass(frozen=True)
class SealedSignature:
    """What the store keeps of a signature: the personal fields only as sealed boxes."""

    campaign: str
    email_key: bytes
    domain_key: bytes | None
    sealed: bytes
    partner_sealed: bytes | None
    country: str
    opt_in: bool
    partner: str | None
    partner_opt_in: bool
    signed_at: str
    held: bool = False
    # The keyed hash of the withdrawal code the reader was shown (widget/withdrawal.py).
    withdraw_key: bytes | None = None
    # Awaiting confirmation by email (widget/confirmation.py): stored, not counted.
    pending: bool = False
    confirm_key: bytes | None = None


def generate_keypair() -> tuple[str, str]:
    """(private, public), each as one line of base64."""
    private = PrivateKey.generate()
    return (
        private.encode(Base64Encoder).decode(),
        private.public_key.encode(Base64Encoder).decode(),
    )


def write_key(path: Path, key: str) -> None:
    """Write a key file, owner-only (a public key too: it names whose data this is), and never
    over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    files.create_exclusive(path, key + "\n")


def public_key(text: str) -> PublicKey:
    try:
        return PublicKey(text.strip().encode(), Base64Encoder)
    except (ValueError, TypeError, CryptoError):
        raise SealingKeyError("not a public key (expected 32 bytes in base64)") from None


def private_key(text: str) -> PrivateKey:
    try:
        return PrivateKey(text.strip().encode(), Base64Encoder)
    except (ValueError, TypeError, CryptoError):
        raise SealingKeyError("not a private key (expected 32 bytes in base64)") from None


def read_private_key(path: str | Path) -> PrivateKey:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SealingKeyError(f"cannot read the private key {path}: {exc.strerror}") from None
    try:
        return private_key(text)
    except SealingKeyError:
        raise SealingKeyError(f"{path} is not a private key (32 bytes in base64)") from None


class _Window:
    """One ephemeral key pair's shared key with a recipient; its secret half is never kept."""

    def __init__(self, recipient: bytes, now: float) -> None:
        ephemeral_public, ephemeral_secret = crypto_box_keypair()
        self.shared: bytes | None = crypto_box_beforenm(recipient, ephemeral_secret)
        self.head = WINDOWED + ephemeral_public
        self.ends = now + WINDOW_SECONDS
        self.rows = 0

    def seal(self, message: bytes) -> bytes:
        assert self.shared is not None
        self.rows += 1
        nonce = os.urandom(crypto_box_NONCEBYTES)
        return self.head + nonce + crypto_box_afternm(message, nonce, self.shared)


class Sealer:
    """Seals to the operator's key and, for signers who opted in to a partner that has a key
    of its own, to the partner's key too; signatures in windows (above)."""

    def __init__(
        self, operator_key: PublicKey, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._box = SealedBox(operator_key)
        self._operator = self.operator_key = bytes(operator_key)
        self._clock = clock
        self._windows: dict[bytes, _Window] = {}

    def seal_personal(self, personal: dict[str, str]) -> bytes:
        return self._box.encrypt(_encode(personal))

    def _seal(self, recipient: bytes, message: bytes) -> bytes:
        now = self._clock()
        window = self._windows.get(recipient)
        if window is None or now >= window.ends or window.rows >= WINDOW_ROWS:
            window = self._windows[recipient] = _Window(recipient, now)
            self._end_later(recipient, window)
        return window.seal(message)

    def _end_later(self, recipient: bytes, window: _Window) -> None:
        """Drop the shared key when its window ends, even if no other signature comes: a
        server taken later must not find it in memory."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script): the next seal, or the process's end
            return
        loop.call_later(WINDOW_SECONDS, self._end, recipient, window)

    def _end(self, recipient: bytes, window: _Window) -> None:
        window.shared = None
        if self._windows.get(recipient) is window:
            del self._windows[recipient]

    def end_windows(self) -> None:
        """Forget every shared key now (at shutdown, and in tests)."""
        for recipient, window in list(self._windows.items()):
            self._end(recipient, window)

    def seal(
        self,
        signature: Signature,
        partner_key: str = "",
        held: bool = False,
        withdraw_key: bytes | None = None,
        confirm_key: bytes | None = None,
    ) -> SealedSignature:
        personal = _encode({name: getattr(signature, name) for name in PERSONAL_FIELDS})
        partner_sealed = None
        if partner_key and signature.partner_opt_in:
            partner_sealed = self._seal(_recipient(partner_key), personal)
        return SealedSignature(
            campaign=signature.campaign,
            email_key=signature.email_key,
            domain_key=signature.domain_key,
            sealed=self._seal(self._operator, personal),
            partner_sealed=partner_sealed,
            country=signature.country,
            opt_in=signature.opt_in,
            partner=signature.partner,
            partner_opt_in=signature.partner_opt_in,
            signed_at=signature.signed_at,
            held=held,
            withdraw_key=withdraw_key,
            pending=confirm_key is not None,
            confirm_key=confirm_key,
        )


@functools.lru_cache(maxsize=256)
def _recipient(key: str) -> bytes:
    """A partner's public key (base64, as registered) as bytes: parsed once, not per row."""
    return bytes(public_key(key))


def _encode(personal: dict[str, str]) -> bytes:
    return json.dumps(personal, ensure_ascii=False).encode()


class Opener:
    """Opens sealed personal data with a private key (the operator's or a partner's), or with
    several: rows sealed to the key before a new one was set open with the old one, so each
    row is opened by whichever key it was sealed to. Rows sealed in a window, and sealed boxes."""

    def __init__(self, key: PrivateKey, *more: PrivateKey) -> None:
        self._keys = [(SealedBox(k), bytes(k)) for k in (key, *more)]
        self.opened = 0  # rows opened so far: an error after some means a key is missing
        # Per window: its rows come together in exports, so its key exchange is done once.
        self._shared: BoundedCache[tuple[bytes, int], bytes] = BoundedCache(4096)

    def open(self, sealed: bytes | None) -> dict[str, str]:
        if not sealed:
            return dict.fromkeys(PERSONAL_FIELDS, "")  # purged, or sealed to another key
        for index in range(len(self._keys)):
            try:
                opened: dict[str, str] = json.loads(self._open(sealed, index))
                self.opened += 1
                return opened
            except CryptoError:
                continue
        several = len(self._keys) > 1
        if self.opened:
            raise SealingKeyError(
                f"{'these private keys' if several else 'this private key'} opened "
                f"{self.opened} row(s), then one that "
                f"{'none of them opens' if several else 'it does not open'}: that row was "
                "sealed to another public key (the server was given a new one); give its "
                "private key too (--private-key once for each)"
            )
        if several:
            raise SealingKeyError("none of these private keys opens the data (wrong keys?)")
        raise SealingKeyError(
            "this private key does not open the data (wrong key?). If the public key the "
            "server seals to was ever changed, rows sealed before open only with the private "
            "key of that time: give every such key (--private-key once for each)"
        )

    def _open(self, sealed: bytes, index: int) -> bytes:
        box, secret = self._keys[index]
        if sealed.startswith(WINDOWED) and len(sealed) > _HEAD:
            ephemeral = sealed[len(WINDOWED) : len(WINDOWED) + crypto_box_PUBLICKEYBYTES]
            shared = self._shared.get((ephemeral, index))
            if shared is None:
                shared = crypto_box_beforenm(ephemeral, secret)
                self._shared.put((ephemeral, index), shared)
            nonce = sealed[_HEAD - crypto_box_NONCEBYTES : _HEAD]
            try:
                return crypto_box_open_afternm(sealed[_HEAD:], nonce, shared)
            except CryptoError:
                pass  # one sealed box in 2**32 starts with the mark by chance: try it as one
        return box.decrypt(sealed)


def operator_public_key(configured: str | None, settings: Settings) -> PublicKey:
    """The configured public key; or, with none configured, a key pair made in the keys folder
    on first run so that a new install works at once. The private half is then on the server,
    and every start says so until it has been moved off."""
    if configured:
        return public_key(configured)
    if is_postgres(settings.database):
        # Instances must seal to one key, or the operator could not open half the signatures.
        raise SealingKeyError(
            f"{ENV_PREFIX}PUBLIC_KEY: required with PostgreSQL; give every instance the same "
            "key (from `petition-widget keys generate`)"
        )
    public_path, private_path = key_paths(settings)
    if not public_path.exists():
        private, public = generate_keypair()
        files.private_folder(public_path.parent)
        write_key(private_path, private)
        write_key(public_path, public)
    if private_path.exists():
        log.warning(
            "the operator's private key is on this server (%s): move it to the operator's "
            "own machine, or anyone who takes the server can read who signed",
            private_path,
        )
    return public_key(public_path.read_text())


def key_paths(settings: Settings) -> tuple[Path, Path]:
    """(public, private) key files of an install that made its own key pair: in the keys
    folder, or beside the database where an older install made them."""
    public = files.key_file(settings, "operator-public.key")
    return public, files.key_file(settings, "operator-private.key")
