"""The rules for a signature: form tokens, honeypot and fill time, normalising and validating
each field, and the keyed duplicate check. The browser form and the JSON API share them."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeTimedSerializer

from widget.cache import BoundedCache
from widget.campaigns import Campaign
from widget.closing import this_hour
from widget.countries import COUNTRY_CODES
from widget.i18n import N_

NAME_MAX = 100
EMAIL_MAX = 254
POSTAL_MAX = 16
PARTNER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
POSTAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
HONEYPOT = "website"
TOKEN_SALT = "petition-widget.form-token"  # noqa: S105 - a namespace, not a secret
DEDUPE_CONTEXT = b"petition-widget.email-key.v1"
# A name is what the operator reads in an export and the target in the delivery file: no
# character in it may be invisible or change how the rest displays. Unicode's format characters
# (category Cf) are exactly those: bidirectional controls (U+202A-U+202E, U+2066-U+2069, the
# marks U+200E, U+200F and U+061C), zero-width spaces and joiners, the BOM, soft hyphens and
# tag characters. Zero-width (non-)joiners are kept only between two letters of the scripts
# that spell with them (Arabic-script and Indic names such as Persian ones).
_JOINERS = {"\u200c", "\u200d"}
_JOINING_SCRIPTS = ((0x0600, 0x08FF), (0x0900, 0x0DFF), (0xFB50, 0xFEFC))
MAX_MARKS = 3  # combining marks on one letter: Vietnamese and pointed Hebrew need up to 3
_TRUE = {"1", "on", "true", "yes"}


# Token outcomes, each an ordinary result rather than an exception; the values are the
# messages a reader sees.
TOKEN_OK = ""
TOKEN_INVALID = N_("This form could not be verified. Please check your details and submit again.")
TOKEN_EXPIRED = N_("This form has expired. Please check your details and submit again.")
TOKEN_TOO_FAST = N_("The form was sent too quickly. Please submit it again.")
HONEYPOT_FILLED = N_("This submission looks automated and was refused.")

_NAME_ERRORS = {
    "first_name": (
        N_("Enter your first name."),
        N_("Your first name must be at most 100 characters."),
        N_("Your first name contains characters that are not allowed."),
        N_(
            "Your first name contains invisible formatting characters (often pasted along "
            "with text). Please type it again."
        ),
        N_("Your first name has too many accents on one letter. Please type it again."),
    ),
    "last_name": (
        N_("Enter your last name."),
        N_("Your last name must be at most 100 characters."),
        N_("Your last name contains characters that are not allowed."),
        N_(
            "Your last name contains invisible formatting characters (often pasted along "
            "with text). Please type it again."
        ),
        N_("Your last name has too many accents on one letter. Please type it again."),
    ),
}


@dataclass(frozen=True)
class Signature:
    campaign: str
    first_name: str
    last_name: str
    email: str
    country: str
    postal_code: str
    opt_in: bool
    partner: str | None
    partner_opt_in: bool
    email_key: bytes
    domain_key: bytes | None  # only with a domain key configured
    signed_at: str


class Tokens:
    """Signed, timestamped form tokens bound to a campaign: no cookie is needed."""

    def __init__(self, secret: str, max_age: int, min_fill_seconds: float) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=TOKEN_SALT)
        self._issued: dict[str, tuple[int, str]] = {}
        self._verified: BoundedCache[str, tuple[Any, int]] = BoundedCache(4096)
        self.max_age = max_age
        self.min_fill_seconds = min_fill_seconds

    def issue(self, slug: str, shown_at: float | None = None) -> str:
        """A token for a form shown now; with `shown_at`, one reissued for a form first shown
        then, so that the fill time runs from the reader's first sight of the form."""
        if shown_at is not None:
            return self._serializer.dumps([slug, int(shown_at)])
        # A token holds the campaign and the second it was made: within one second every
        # form of a campaign gets the same token, so it is made once per second, not per page.
        second = int(time.time())
        cached = self._issued.get(slug)
        if cached is None or cached[0] != second:
            cached = self._issued[slug] = (second, self._serializer.dumps(slug))
        return cached[1]

    def issue_ready(self, slug: str) -> str:
        """A token that passes the fill time at once: the answer to a refusal that told the
        reader to submit again, so that doing so at once works. (A script gains nothing it
        could not get by waiting two seconds; the honeypot and the rate limits still apply.)"""
        return self.issue(slug, time.time() - self.min_fill_seconds - 1)

    def check(self, token: str, slug: str, now: float | None = None) -> tuple[str, float | None]:
        """(TOKEN_OK or why the token cannot be accepted, when its form was first shown)."""
        verified = self._verified.get(token)
        if verified is None:
            try:
                value, issued = self._serializer.loads(token, return_timestamp=True)
            except BadSignature:
                return TOKEN_INVALID, None
            # Every form of a campaign shown within one second has the same token: its
            # signature is checked once, not for each of them. Its age is checked every time.
            verified = self._verified.put(token, (value, int(issued.timestamp())))
        value, issued_at = verified
        age = int(time.time()) - issued_at
        if age > self.max_age or age < 0:  # as itsdangerous's max_age
            return TOKEN_EXPIRED, None
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
            value, shown_at = value[0], float(value[1])
        else:
            shown_at = float(issued_at)
        if value != slug:
            return TOKEN_INVALID, None
        now = time.time() if now is None else now
        if now - shown_at < self.min_fill_seconds:
            return TOKEN_TOO_FAST, shown_at
        return TOKEN_OK, shown_at


@functools.cache
def derived_key(secret: str, context: bytes) -> bytes:
    """A key of its own for each use of the secret key, made once per process."""
    return hmac.new(secret.encode(), context, hashlib.sha256).digest()


def keyed_hash(secret: str, context: bytes, value: str) -> bytes:
    """HMAC-SHA256 of `value` under the secret key's derived key for `context`: what is kept
    of an address, a withdrawal code or a confirmation link, so that a copy of the database
    cannot test guesses without the secret key."""
    return hmac.new(derived_key(secret, context), value.encode(), hashlib.sha256).digest()


def email_key(secret: str, email: str) -> bytes:
    """Keyed hash of a normalised email: the duplicate check never needs the address itself."""
    return keyed_hash(secret, DEDUPE_CONTEXT, email)


def domain_key(key: str, email: str) -> bytes:
    """Keyed hash of an address's domain under the domain key (never the secret key), so a
    flood from one domain can be invalidated without keeping the domain itself."""
    return email_key(key, "domain:" + email.rpartition("@")[2])


def normalise_email(raw: str) -> str:
    """Trim, validate and lower-case an address; raises ValueError with a reader's message."""
    text = raw.strip()
    if not text:
        raise ValueError(N_("Enter your email address."))
    if len(text) > EMAIL_MAX:
        raise ValueError(N_("Enter a valid email address, like name@example.org."))
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(N_("Enter a valid email address, like name@example.org.")) from None
    # Mailboxes are case-insensitive in practice; one person, one signature.
    return valid.normalized.lower()


def normalise_name(raw: str, field: str) -> str:
    """Trim and fold spaces; refuse empty, over-long, control characters and markup."""
    missing, too_long, bad_chars, invisible, marks = _NAME_ERRORS[field]
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if not text:
        raise ValueError(missing)
    if len(text) > NAME_MAX:
        raise ValueError(too_long)
    if any(unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs") or c in "<>" for c in text):
        raise ValueError(bad_chars)
    if _has_invisible(text):
        raise ValueError(invisible)
    if _most_marks(text) > MAX_MARKS:
        raise ValueError(marks)
    return text


def _has_invisible(text: str) -> bool:
    for i, c in enumerate(text):
        if unicodedata.category(c) != "Cf":
            continue
        if c not in _JOINERS or not 0 < i < len(text) - 1:
            return True
        if not (_joining_letter(text[i - 1]) and _joining_letter(text[i + 1])):
            return True
    return False


def _joining_letter(c: str) -> bool:
    return unicodedata.category(c)[0] in "LM" and any(a <= ord(c) <= b for a, b in _JOINING_SCRIPTS)


def _most_marks(text: str) -> int:
    """The longest run of combining marks (Mn, Mc, Me) on one character."""
    most = run = 0
    for c in text:
        run = run + 1 if unicodedata.category(c).startswith("M") else 0
        most = max(most, run)
    return most


def normalise_partner(raw: str | None) -> str | None:
    """A partner code as a short slug, or None; raises ValueError for anything else."""
    if raw is None or raw == "":
        return None
    if not PARTNER_RE.match(raw):
        raise ValueError(N_("Unknown partner code."))
    return raw


def screen(form: Mapping[str, str], tokens: Tokens, slug: str) -> tuple[str, float | None]:
    """The checks that tell a person from a script: the token, its age, and the honeypot.
    Returns (TOKEN_OK or the message that refuses the submission, when the form was first
    shown if the token says so)."""
    if form.get(HONEYPOT, ""):
        return HONEYPOT_FILLED, None
    return tokens.check(form.get("token", ""), slug)


def accept(
    form: Mapping[str, str], campaign: Campaign, secret: str, domain_secret: str | None = None
) -> tuple[Signature | None, dict[str, str]]:
    """Validate a submitted form for a campaign: a Signature, or errors keyed by field. The
    email domain is hashed only when a domain key is given."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}

    def field(name: str, check: Callable[[str], str]) -> None:
        try:
            values[name] = check(form.get(name, ""))
        except ValueError as exc:
            errors[name] = str(exc)

    field("first_name", lambda v: normalise_name(v, "first_name"))
    field("last_name", lambda v: normalise_name(v, "last_name"))
    field("email", normalise_email)
    field("country", _country)
    if campaign.ask_postal_code:
        field("postal_code", _postal_code)
    try:
        partner = normalise_partner(form.get("partner"))
    except ValueError as exc:
        errors["partner"] = str(exc)
        partner = None
    if errors:
        return None, errors
    return Signature(
        campaign=campaign.slug,
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        country=values["country"],
        postal_code=values.get("postal_code", ""),
        opt_in=form.get("opt_in", "").lower() in _TRUE,
        partner=partner,
        partner_opt_in=partner is not None and form.get("partner_opt_in", "").lower() in _TRUE,
        email_key=email_key(secret, values["email"]),
        domain_key=domain_key(domain_secret, values["email"]) if domain_secret else None,
        signed_at=this_hour(),
    ), {}


def _country(raw: str) -> str:
    code = raw.strip().upper()
    if not code:
        raise ValueError(N_("Choose your country."))
    if code not in COUNTRY_CODES:
        raise ValueError(N_("Choose a country from the list."))
    return code


def _postal_code(raw: str) -> str:
    text = " ".join(raw.split()).upper()
    if not text:
        raise ValueError(N_("Enter your postal code."))
    if len(text) > POSTAL_MAX or not POSTAL_RE.match(text):
        raise ValueError(N_("Enter a valid postal code."))
    return text
