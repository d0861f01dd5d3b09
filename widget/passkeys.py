"""Passkeys (WebAuthn) as operators' second factor, through py_webauthn, and the one-time
recovery codes for a lost key. The challenge of each ceremony travels in a signed cookie that
expires in five minutes (every instance can check it; nothing to store), and is bound to the
operator it was made for.

py_webauthn is imported by the ceremonies that use it, not with this module: with the
cryptography and OpenSSL bindings it loads, it was about a third of the time every CLI command
and server worker took to start (importing the app: 365 ms with it, 247 ms without, on
2026-12-08), for a step that only operators logging in ever take. A server loads it as it
starts (`load`), so that no reader waits while the first operator's login imports it."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

CEREMONY_SECONDS = 300
RP_NAME = "petition-widget admin"
CODES = 10
# No look-alikes (0/o, 1/l/i): easy to copy and to read aloud. 20 characters of 31: 99 bits.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 20
NAME_MAX = 60


def load() -> None:
    """Import py_webauthn now (a server, as it starts) rather than at the first ceremony."""
    importlib.import_module("webauthn")


class PasskeyError(ValueError):
    """A passkey or recovery code that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class Passkey:
    credential_id: str  # base64url
    operator: str
    public_key: bytes
    sign_count: int
    name: str
    created_at: str
    last_used: str | None = None


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: our host name (rp_id) and our origin."""

    id: str
    origin: str

    @classmethod
    def of(cls, origin: str) -> RelyingParty:
        return cls(urlsplit(origin).hostname or "", origin)


class Ceremonies:
    """Options for the browser, and the checks of what it sends back."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="passkey-ceremony")
        self._secret = secret.encode()

    def user_handle(self, operator: str) -> bytes:
        """A stable, opaque id for the operator on their authenticators (not their address)."""
        digest = hmac.new(self._secret, b"operator:" + operator.encode(), hashlib.sha256)
        return digest.digest()[:16]

    # The challenge cookie ----------------------------------------------------------------

    def seal(self, purpose: str, operator: str, challenge: bytes) -> str:
        from webauthn.helpers import bytes_to_base64url

        return self._serializer.dumps([purpose, operator, bytes_to_base64url(challenge)])

    def opened(self, purpose: str, value: str | None) -> tuple[str, bytes]:
        """(operator, challenge) from a ceremony cookie made for this purpose."""
        from webauthn.helpers import base64url_to_bytes

        try:
            kind, operator, challenge = self._serializer.loads(
                value or "", max_age=CEREMONY_SECONDS
            )
        except (BadSignature, ValueError, TypeError):
            raise PasskeyError("This step has expired. Start again.") from None
        if kind != purpose:
            raise PasskeyError("This step has expired. Start again.")
        return str(operator), base64url_to_bytes(challenge)

    # Enrolment --------------------------------------------------------------------------

    def registration(
        self, rp: RelyingParty, operator: str, existing: list[Passkey]
    ) -> tuple[str, bytes]:
        """The creation options (JSON for the browser) and their challenge."""
        from webauthn import generate_registration_options, options_to_json
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        options = generate_registration_options(
            rp_id=rp.id, rp_name=RP_NAME, user_name=operator, user_display_name=operator,
            user_id=self.user_handle(operator),
            exclude_credentials=[_descriptor(p) for p in existing],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
        )  # fmt: skip
        return _for_page(options_to_json(options)), options.challenge

    def registered(
        self, rp: RelyingParty, operator: str, challenge: bytes, credential: str, name: str,
        stamp: str,
    ) -> Passkey:  # fmt: skip
        from webauthn import verify_registration_response
        from webauthn.helpers import bytes_to_base64url
        from webauthn.helpers.exceptions import InvalidRegistrationResponse

        name = " ".join(name.split())[:NAME_MAX] or "Passkey"
        try:
            verified = verify_registration_response(
                credential=_json(credential), expected_challenge=challenge,
                expected_rp_id=rp.id, expected_origin=rp.origin,
            )  # fmt: skip
        except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
            raise PasskeyError(f"The passkey could not be registered: {exc}") from None
        return Passkey(
            bytes_to_base64url(verified.credential_id), operator,
            verified.credential_public_key, verified.sign_count, name, stamp,
        )  # fmt: skip

    # Logging in -------------------------------------------------------------------------

    def authentication(
        self, rp: RelyingParty, keys: list[Passkey], challenge: bytes
    ) -> tuple[str, bytes]:
        """The request options (JSON for the browser) for the challenge made at the password."""
        from webauthn import generate_authentication_options, options_to_json
        from webauthn.helpers.structs import UserVerificationRequirement

        options = generate_authentication_options(
            rp_id=rp.id, challenge=challenge, allow_credentials=[_descriptor(p) for p in keys],
            user_verification=UserVerificationRequirement.PREFERRED,
        )  # fmt: skip
        return _for_page(options_to_json(options)), options.challenge

    def authenticated(
        self, rp: RelyingParty, challenge: bytes, credential: str, keys: list[Passkey]
    ) -> tuple[Passkey, int]:
        """The operator's passkey that signed, and its new signature count."""
        from webauthn import verify_authentication_response
        from webauthn.helpers.exceptions import InvalidAuthenticationResponse

        data = _json(credential)
        key = next((k for k in keys if k.credential_id == data.get("id")), None)
        if key is None:
            raise PasskeyError("That passkey is not one of this account's.")
        try:
            verified = verify_authentication_response(
                credential=data, expected_challenge=challenge, expected_rp_id=rp.id,
                expected_origin=rp.origin, credential_public_key=key.public_key,
                credential_current_sign_count=key.sign_count,
            )  # fmt: skip
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
            raise PasskeyError("The passkey's answer could not be checked. Try again.") from None
        return key, verified.new_sign_count


def _for_page(options: str) -> str:
    """JSON that can sit inside a <script type="application/json"> element."""
    return options.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _descriptor(key: Passkey) -> PublicKeyCredentialDescriptor:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id))


def _json(credential: str) -> dict[str, Any]:
    try:
        data = json.loads(credential)
    except ValueError:
        raise PasskeyError("The browser's answer could not be read. Try again.") from None
    if not isinstance(data, dict):
        raise PasskeyError("The browser's answer could not be read. Try again.")
    return data


# Recovery codes ---------------------------------------------------------------------------


def new_codes() -> list[str]:
    """Fresh recovery codes, shown once: groups of four, as `abcd-efgh-jkmn-pqrs-tuvw`."""
    codes = []
    for _ in range(CODES):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4)))
    return codes


def code_hash(code: str) -> str:
    """What is stored of a code: a hash of it, whatever the case, spaces or dashes typed."""
    clean = "".join(c for c in code.lower() if c in CODE_ALPHABET)
    return hashlib.sha256(("recovery:" + clean).encode()).hexdigest()
