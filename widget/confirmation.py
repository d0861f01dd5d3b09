"""Confirming a signature by email, for campaigns that ask for it (`confirm_email = true`): the
signature is stored but not counted; a link is emailed to the address; the link's page has a
button whose POST confirms (a GET changes nothing, since mail scanners open links). Only a
keyed hash of the link's token is stored.

The answer to signing is the same for every address. Whether the address had already confirmed
a signature is looked up only when the email is composed, in the mail queue, after the reader
was answered: such an address gets an email saying it is already counted, with no link."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from widget import closing, i18n
from widget.i18n import N_
from widget.registry import CampaignRegistry
from widget.signing import keyed_hash
from widget.store import Store
from widget.urls import URLs

KEY_CONTEXT = b"petition-widget.confirm-key.v1"
TOKEN_BYTES = 24  # 192 bits, in the link

CONFIRM_SUBJECT = N_("Confirm your signature: %(title)s")
CONFIRM_BODY = N_(
    "To count your signature on “%(title)s”, open this link and press the button on the page:"
)
COUNTED_SUBJECT = N_("Your signature is already counted: %(title)s")
COUNTED_BODY = N_(
    "Someone, probably you, signed “%(title)s” again with this address. Your signature was "
    "already confirmed and counted: there is nothing more to do."
)
BUTTON = N_("Confirm my signature")

# What the confirmation page says, by the state of its link.
STATES = {
    "pending": N_("Press the button to confirm your signature. It counts from then on."),
    "confirmed": N_("Thank you: your signature is confirmed and counted."),
    "already": N_("This signature was already confirmed. It is counted: nothing more to do."),
    "expired": N_(
        "This link has expired or is no longer valid. To add your name, sign the petition again."
    ),
}


@dataclass(frozen=True)
class Letter:
    """One confirmation email to send: the address is here only, in memory."""

    to: str
    campaign: str
    language: str
    token: str
    email_key: bytes
    base: str  # the public origin the link is built on


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def key(secret: str, token: str) -> bytes:
    return keyed_hash(secret, KEY_CONTEXT, token)


def not_before(days: int) -> str:
    """The oldest signing time whose link still works."""
    return (datetime.now(UTC) - timedelta(days=days)).strftime(closing.STAMP)


class Composer:
    """Builds the email for a letter, in the reader's language: plain text and simple HTML,
    with no image, no remote resource and nothing that tracks opening."""

    def __init__(self, store: Store, campaigns: CampaignRegistry, sender: str, days: int) -> None:
        self.store = store
        self.campaigns = campaigns
        self.sender = sender
        self.days = days

    async def __call__(self, letter: Letter) -> EmailMessage:
        campaign = await self.campaigns.get(letter.campaign)
        if campaign is None:
            raise LookupError("the campaign is gone")
        content = campaign.content(letter.language)
        translations = i18n.translations(letter.language)
        gettext = translations.gettext
        title, organisation = content.title, content.organisation
        if await self.store.has_confirmed(letter.campaign, letter.email_key):
            subject = gettext(COUNTED_SUBJECT) % {"title": title}
            lines, link = [gettext(COUNTED_BODY) % {"title": title}], ""
        else:
            subject = gettext(CONFIRM_SUBJECT) % {"title": title}
            link = URLs(letter.base).confirm(letter.campaign, letter.token, lang=letter.language)
            lines = [
                gettext(CONFIRM_BODY) % {"title": title},
                translations.ngettext(
                    "The link works for %(days)s day. If you did not sign, ignore this email: "
                    "nothing will be counted, and the signature is deleted when the link expires.",
                    "The link works for %(days)s days. If you did not sign, ignore this email: "
                    "nothing will be counted, and the signature is deleted when the link expires.",
                    self.days,
                )
                % {"days": self.days},
            ]
        text = "\n\n".join([lines[0], *([link] if link else []), *lines[1:], organisation])
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = letter.to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text + "\n")
        message.add_alternative(_html(lines, link, gettext(BUTTON), organisation, letter.language),
                                subtype="html")  # fmt: skip
        message["Content-Language"] = letter.language  # after the parts: they take Content-*
        return message


def _html(lines: list[str], link: str, button: str, organisation: str, language: str) -> str:
    e = html.escape
    parts = [f"<p>{e(lines[0])}</p>"]
    if link:
        parts.append(f'<p><a href="{e(link)}"><strong>{e(button)}</strong></a></p>')
        parts.append(f"<p>{e(link)}</p>")
    parts += [f"<p>{e(line)}</p>" for line in lines[1:]]
    parts.append(f"<p>{e(organisation)}</p>")
    body = "\n".join(parts)
    return f'<!doctype html>\n<html lang="{e(language)}"><body>\n{body}\n</body></html>\n'
