"""Every public URL, in one place. Partners paste these into pages we never see again: the
route table is built from the same patterns, and tests pin them."""

from __future__ import annotations

from urllib.parse import urlencode

from widget.resources import static_digest

HOME = "/"
HEALTHZ = "/healthz"
READYZ = "/readyz"
EMBED_JS = "/embed.js"
STATIC = "/static"
HOSTED = "/c/{slug}"
EMBED = "/c/{slug}/embed"
COUNTER = "/c/{slug}/counter"
SIGN = "/c/{slug}/sign"
THANKS = "/c/{slug}/thanks"
WITHDRAW = "/c/{slug}/withdraw"
CONFIRM = "/c/{slug}/confirm/{token}"
API_CAMPAIGN = "/api/campaigns/{slug}"
PARTNER_EXPORT = "/c/{slug}/partners/{code}/export.csv"
OEMBED = "/oembed"
CARD = "/c/{slug}/card"
PREVIEW = "/c/{slug}/preview.png"
ADMIN = "/admin"
ADMIN_LOGIN = "/admin/login"
ADMIN_LOGOUT = "/admin/logout"
ADMIN_LOGIN_PASSKEY = "/admin/login/passkey"
ADMIN_PASSKEYS = "/admin/passkeys"
ADMIN_PASSKEY_REMOVE = "/admin/passkeys/remove"
ADMIN_RECOVERY_CODES = "/admin/passkeys/codes"
ADMIN_CAMPAIGN_NEW = "/admin/campaigns/new"
ADMIN_CAMPAIGN = "/admin/campaigns/{slug}"
ADMIN_EXPORT = "/admin/campaigns/{slug}/export/{kind}"
ADMIN_PARTNER_LINK = "/admin/campaigns/{slug}/partner-link"
ADMIN_REVIEW = "/admin/campaigns/{slug}/review/{action}"
ADMIN_TRANSLATION = "/admin/campaigns/{slug}/translations/{lang}"
ADMIN_PARTNERS = "/admin/partners"
ADMIN_PARTNER_ROTATE = "/admin/partners/{code}/rotate"
ADMIN_PARTNER_REMOVE = "/admin/partners/{code}/remove"
ADMIN_SIGNERS = "/admin/signers"
ADMIN_AUDIT = "/admin/audit"
ADMIN_DECRYPT = "/admin/decrypt"
ADMIN_SESSIONS = "/admin/sessions"


def _query(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


class URLs:
    """Builds URLs, relative to `base` (an origin like https://petitions.example.org, or "")."""

    def __init__(self, base: str = "") -> None:
        self.base = base.rstrip("/")

    def home(self, lang: str | None = None) -> str:
        return self.base + HOME + _query(lang=lang)

    def healthz(self) -> str:
        return self.base + HEALTHZ

    def readyz(self) -> str:
        return self.base + READYZ

    def embed_js(self) -> str:
        return self.base + EMBED_JS

    def static(self, name: str) -> str:
        """A static file with its content's digest, so that it can be cached for a year."""
        return f"{self.base}{STATIC}/{name}?v={static_digest(name)}"

    def hosted(self, slug: str, lang: str | None = None, partner: str | None = None) -> str:
        return self.base + HOSTED.format(slug=slug) + _query(partner=partner, lang=lang)

    def embed(self, slug: str, partner: str | None = None, lang: str | None = None) -> str:
        return self.base + EMBED.format(slug=slug) + _query(partner=partner, lang=lang)

    def counter(self, slug: str, lang: str | None = None) -> str:
        return self.base + COUNTER.format(slug=slug) + _query(lang=lang)

    def card(self, slug: str, lang: str | None = None, partner: str | None = None) -> str:
        return self.base + CARD.format(slug=slug) + _query(partner=partner, lang=lang)

    def preview(self, slug: str, lang: str | None = None) -> str:
        return self.base + PREVIEW.format(slug=slug) + _query(lang=lang)

    def oembed(self, url: str) -> str:
        return self.base + OEMBED + _query(url=url, format="json")

    def sign(self, slug: str) -> str:
        return self.base + SIGN.format(slug=slug)

    def thanks(
        self,
        slug: str,
        lang: str | None = None,
        partner: str | None = None,
        view: str = "",
        receipt: str = "",
        theme: str = "",
    ) -> str:
        query = _query(partner=partner, lang=lang, view=view, receipt=receipt, theme=theme)
        return self.base + THANKS.format(slug=slug) + query

    def confirm(self, slug: str, token: str, lang: str | None = None) -> str:
        return self.base + CONFIRM.format(slug=slug, token=token) + _query(lang=lang)

    def withdraw(self, slug: str, lang: str | None = None) -> str:
        return self.base + WITHDRAW.format(slug=slug) + _query(lang=lang)

    def api_campaign(self, slug: str) -> str:
        return self.base + API_CAMPAIGN.format(slug=slug)

    def partner_export(self, slug: str, code: str, token: str) -> str:
        return self.base + PARTNER_EXPORT.format(slug=slug, code=code) + _query(token=token)

    def admin(self) -> str:
        return self.base + ADMIN

    def login(self, next_path: str | None = None) -> str:
        return self.base + ADMIN_LOGIN + _query(next=next_path)

    def login_passkey(self, next_path: str | None = None) -> str:
        return self.base + ADMIN_LOGIN_PASSKEY + _query(next=next_path)

    def passkeys(self) -> str:
        return self.base + ADMIN_PASSKEYS

    def passkey_remove(self) -> str:
        return self.base + ADMIN_PASSKEY_REMOVE

    def recovery_codes(self) -> str:
        return self.base + ADMIN_RECOVERY_CODES

    def logout(self) -> str:
        return self.base + ADMIN_LOGOUT

    def new_campaign(self) -> str:
        return self.base + ADMIN_CAMPAIGN_NEW

    def partners(self, edit: str | None = None) -> str:
        """The admin's partners page; with `edit`, its form filled with that partner."""
        return self.base + ADMIN_PARTNERS + _query(edit=edit)

    def signers(self) -> str:
        return self.base + ADMIN_SIGNERS

    def audit(self) -> str:
        return self.base + ADMIN_AUDIT

    def decrypt(self) -> str:
        return self.base + ADMIN_DECRYPT

    def sessions(self) -> str:
        return self.base + ADMIN_SESSIONS

    def campaign(self, slug: str) -> str:
        """The campaign's admin page."""
        return self.base + ADMIN_CAMPAIGN.format(slug=slug)

    def export(self, slug: str, kind: str) -> str:
        return self.base + ADMIN_EXPORT.format(slug=slug, kind=kind)

    def partner_link(self, slug: str) -> str:
        return self.base + ADMIN_PARTNER_LINK.format(slug=slug)

    def partner_rotate(self, code: str) -> str:
        return self.base + ADMIN_PARTNER_ROTATE.format(code=code)

    def partner_remove(self, code: str) -> str:
        return self.base + ADMIN_PARTNER_REMOVE.format(code=code)

    def translation(self, slug: str, lang: str) -> str:
        return self.base + ADMIN_TRANSLATION.format(slug=slug, lang=lang)

    def review(self, slug: str, action: str) -> str:
        return self.base + ADMIN_REVIEW.format(slug=slug, action=action)
