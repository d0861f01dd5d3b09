"""Every public URL, in one place. Partners paste these into pages we never see again: the
route table is built from the same patterns, and tests pin them."""

from __future__ import annotations

from urllib.parse import urlencode

HOME = "/"
HEALTHZ = "/healthz"
EMBED_JS = "/embed.js"
STATIC = "/static"
HOSTED = "/c/{slug}"
EMBED = "/c/{slug}/embed"
COUNTER = "/c/{slug}/counter"
SIGN = "/c/{slug}/sign"
THANKS = "/c/{slug}/thanks"
API_CAMPAIGN = "/api/campaigns/{slug}"


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

    def embed_js(self) -> str:
        return self.base + EMBED_JS

    def static(self, name: str) -> str:
        return f"{self.base}{STATIC}/{name}"

    def hosted(self, slug: str, lang: str | None = None, partner: str | None = None) -> str:
        return self.base + HOSTED.format(slug=slug) + _query(partner=partner, lang=lang)

    def embed(self, slug: str, partner: str | None = None, lang: str | None = None) -> str:
        return self.base + EMBED.format(slug=slug) + _query(partner=partner, lang=lang)

    def counter(self, slug: str, lang: str | None = None) -> str:
        return self.base + COUNTER.format(slug=slug) + _query(lang=lang)

    def sign(self, slug: str) -> str:
        return self.base + SIGN.format(slug=slug)

    def thanks(
        self, slug: str, lang: str | None = None, partner: str | None = None, view: str = ""
    ) -> str:
        return self.base + THANKS.format(slug=slug) + _query(partner=partner, lang=lang, view=view)

    def api_campaign(self, slug: str) -> str:
        return self.base + API_CAMPAIGN.format(slug=slug)
