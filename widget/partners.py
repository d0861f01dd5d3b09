"""Partners: organisations that embed a campaign under their own code, with their own opt-in
question and an export link that needs no account."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, replace

from itsdangerous import BadSignature, URLSafeTimedSerializer

from widget.campaigns import CampaignError, parse_origin
from widget.sealing import SealingKeyError
from widget.sealing import public_key as sealing_key
from widget.signing import PARTNER_RE

LINK_SALT = "petition-widget.partner-export"
LINK_DAYS_DEFAULT = 14
NAME_MAX = 120
CONTACT_MAX = 200


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    contact: str = ""
    origins: tuple[str, ...] = ()
    link_key: str = ""
    public_key: str = ""  # the partner's own key: opted-in signers are sealed to it too
    key_since: str = ""  # the hour public_key was set ("" if unknown: set before it was kept)

    def with_new_link_key(self) -> Partner:
        """The same partner with a fresh key: every export link made before stops working."""
        return replace(self, link_key=secrets.token_urlsafe(24))


def make_partner(
    code: str,
    name: str,
    contact: str = "",
    origins: list[str] | None = None,
    public_key: str = "",
) -> Partner:
    """Validate a partner's fields; raises CampaignError naming the field."""
    code = code.strip()
    if not PARTNER_RE.match(code):
        raise CampaignError("code", "must be 1-32 lower-case letters, digits or hyphens")
    name = " ".join(name.split())
    if not name:
        raise CampaignError("name", "is required")
    if len(name) > NAME_MAX:
        raise CampaignError("name", f"must be at most {NAME_MAX} characters")
    contact = contact.strip()
    if len(contact) > CONTACT_MAX:
        raise CampaignError("contact", f"must be at most {CONTACT_MAX} characters")
    clean = tuple(dict.fromkeys(parse_origin(o, "origins") for o in (origins or []) if o.strip()))
    if "*" in clean:
        raise CampaignError("origins", "must name origins; * is not allowed for a partner")
    public_key = public_key.strip()
    if public_key:
        try:
            sealing_key(public_key)
        except SealingKeyError as exc:
            raise CampaignError("public_key", str(exc)) from None
    partner = Partner(code=code, name=name, contact=contact, origins=clean, public_key=public_key)
    return partner.with_new_link_key()


def _fingerprint(partner: Partner) -> str:
    return hashlib.sha256(partner.link_key.encode()).hexdigest()[:16]


class PartnerLinks:
    """Signed, expiring export links for partners, revoked by rotating the partner's key."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=LINK_SALT)

    def issue(self, slug: str, partner: Partner, days: int) -> str:
        return self._serializer.dumps(
            {"c": slug, "p": partner.code, "k": _fingerprint(partner), "d": days}
        )

    def check(self, token: str, slug: str, partner: Partner | None) -> bool:
        """True if the token is a live link to this campaign's export for this partner."""
        try:
            data, issued = self._serializer.loads(token, return_timestamp=True)
        except BadSignature:
            return False
        if partner is None or not isinstance(data, dict) or not isinstance(data.get("d"), int):
            return False
        if time.time() - issued.timestamp() > data["d"] * 86400:
            return False
        return (
            data.get("c") == slug
            and data.get("p") == partner.code
            and data.get("k") == _fingerprint(partner)
        )
