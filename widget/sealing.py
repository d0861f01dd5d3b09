"""Personal data sealed at rest: names, email and postal code are sealed with the operator's
public key (libsodium sealed boxes). The server can seal but never open them; opening needs
the private key, which belongs on the operator's own machine."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from nacl.encoding import Base64Encoder
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from widget import files
from widget.settings import ENV_PREFIX, Settings, in_use, is_postgres, legacy_key_file
from widget.signing import Signature

log = logging.getLogger(__name__)

PERSONAL_FIELDS = ("first_name", "last_name", "email", "postal_code")


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


class Sealer:
    """Seals to the operator's key and, for signers who opted in to a partner that has a key
    of its own, to the partner's key too."""

    def __init__(self, operator_key: PublicKey) -> None:
        self._box = SealedBox(operator_key)

    def seal_personal(self, personal: dict[str, str]) -> bytes:
        return self._box.encrypt(_encode(personal))

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
            partner_sealed = SealedBox(public_key(partner_key)).encrypt(personal)
        return SealedSignature(
            campaign=signature.campaign,
            email_key=signature.email_key,
            domain_key=signature.domain_key,
            sealed=self._box.encrypt(personal),
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


def _encode(personal: dict[str, str]) -> bytes:
    return json.dumps(personal, ensure_ascii=False).encode()


class Opener:
    """Opens sealed personal data with a private key (the operator's or a partner's)."""

    def __init__(self, key: PrivateKey) -> None:
        self._box = SealedBox(key)

    def open(self, sealed: bytes | None) -> dict[str, str]:
        if not sealed:
            return dict.fromkeys(PERSONAL_FIELDS, "")  # purged, or sealed to another key
        try:
            opened: dict[str, str] = json.loads(self._box.decrypt(sealed))
            return opened
        except CryptoError:
            raise SealingKeyError("this private key does not open the data (wrong key?)") from None


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
    folder = settings.key_folder
    return (
        in_use(
            folder / "operator-public.key",
            legacy_key_file(settings.database, "operator-public.key"),
        ),
        in_use(
            folder / "operator-private.key",
            legacy_key_file(settings.database, "operator-private.key"),
        ),
    )
