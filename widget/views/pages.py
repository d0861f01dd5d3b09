"""A reader's page: rendered once per campaign, language, partner, view and theme, then answered
from bytes with only the form token and the count put in. The iframe document, the counter and
the hosted page are also answered by ReaderPages, a small ASGI layer in front of the router
(declared in app.fast_paths beside the route table), from the same pages: there is one place
that makes a page, and the route handlers in views/embed.py answer what the fast path passes on
(an unknown slug, HEAD)."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from widget import counter, i18n, security, share, signing, urls
from widget.campaigns import Campaign
from widget.countries import country_choices
from widget.delivery import MINIMUM_BYTES, FastPath
from widget.service import Service, service_of
from widget.templating import theme_style

EMBED = "embed"
HOSTED = "hosted"
COUNTER = "counter"
CARD = "card"  # the card oEmbed hands to a CMS (views/oembed.py)
# Light or dark: `auto` follows the reader's system. The hosted page follows it by default; an
# iframe is light unless the partner's snippet says otherwise (data-theme), to match its page.
THEMES = ("light", "dark", "auto")
HTML = "text/html; charset=utf-8"


def reader_language(request: Request, campaign: Campaign, requested: str | None = None) -> str:
    if requested is None:
        requested = request.query_params.get("lang")
    return i18n.negotiate(requested, request.headers.get("accept-language"), campaign.language)


def partner_code(raw: str | None) -> str | None:
    """A partner code from a URL a partner pasted: a bad one is dropped, not an error page."""
    try:
        return signing.normalise_partner(raw)
    except ValueError:
        return None


async def render(
    request: Request,
    campaign: Campaign,
    template: str,
    *,
    language: str,
    partner: str | None,
    view: str,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
    token: str | None = None,
    withdraw_code: str = "",
    keep: bool = True,
) -> HTMLResponse:
    """A reader's page. A page with what the reader typed or their withdrawal code (or
    `keep=False`) is rendered for this answer alone and never kept."""
    service = service_of(request)
    personal = bool(values or errors or withdraw_code or not keep)
    page = _page(
        service, request, campaign, template, language, partner, view, personal,
        values=values, errors=errors, extra=extra, withdraw_code=withdraw_code,
    )  # fmt: skip
    count = await service.counter.public(campaign)
    token = token or service.tokens.issue(campaign.slug)
    body = page.fill(token, count) if personal else page.body(token, count)[0]
    return HTMLResponse(body, status, headers=page.headers)


def _page(
    service: Service,
    request: Request,
    campaign: Campaign,
    template: str,
    language: str,
    partner: str | None,
    view: str,
    personal: bool = False,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
    withdraw_code: str = "",
) -> _Page:
    origin = security.own_origin(request, service.settings.public_url)
    share_url = urls.URLs(origin).hosted(campaign.slug, lang=language)
    # The campaign, its partners' names and origins change only when the registry reloads,
    # which empties the cache: the slug stands for them in the key. A campaign closes itself
    # at its closing time, between two reloads.
    theme = request.query_params.get("theme", "")
    if theme not in THEMES:
        theme = "auto" if view == HOSTED else "light"
    key = (template, language, view, partner, share_url, campaign.slug, campaign.is_open, theme)
    page = None if personal else service.pages.get(key)
    if page is not None:
        assert isinstance(page, _Page)
        return page
    registered = service.campaigns.partners.get(partner or "")
    gettext = i18n.translations(language).gettext
    own = urls.URLs(origin)
    page = _Page.render(
        service, campaign, template, language, share_url,
        partner=partner, partner_name=registered.name if registered is not None else "",
        view=view, values=values or {},
        errors={name: gettext(message) for name, message in (errors or {}).items()},
        **{
            **(extra or {}),
            "theme": theme,
            "oembed_url": own.oembed(share_url),
            "withdraw_code": withdraw_code,
            "withdraw_url": own.withdraw(campaign.slug, lang=language),
            "elsewhere_url": own.hosted(campaign.slug, lang=language, partner=partner),
            "preview_url": own.preview(campaign.slug, lang=language),
        },
    )  # fmt: skip
    if not personal:
        service.pages.put(key, page)
    return page


_MARKS = ("token", "count_text", "goal_text", "progress")
_MARK = re.compile("\x00(" + "|".join(_MARKS) + ")\x00")


@dataclass
class _Page:
    """A rendered page split at the marks where per-request values go, and its last answer:
    the form token changes once a second and the count when someone signs, so between those
    every reader of this page gets the same bytes (and the same gzip of them)."""

    parts: tuple[str, ...]  # literal text at even indices, mark names at odd ones
    headers: dict[str, str]
    campaign: Campaign
    language: str
    _last: tuple[str, int, bytes, bytes | None] | None = field(default=None, repr=False)

    @cached_property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ReaderPages sends them, before the security headers and the length."""
        headers = [("Content-Type", HTML), *self.headers.items(), ("Vary", "Accept-Encoding")]
        return [(name.lower().encode(), value.encode()) for name, value in headers]

    def fill(self, token: str, count: int) -> bytes:
        campaign, language, minimum = self.campaign, self.language, self.campaign.counter_minimum
        progress = min(count, campaign.goal or count) if counter.shown(count, minimum) else 0
        values = {
            "token": token,
            "count_text": counter.headline(count, minimum, language),
            "goal_text": counter.goal_text(count, campaign.goal, minimum, language),
            "progress": str(progress),
        }
        html = "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(self.parts))
        return html.encode()

    def body(self, token: str, count: int, compressed: bool = False) -> tuple[bytes, bool]:
        """The page's bytes for this token and count, gzipped when `compressed` and worth it;
        and whether they are gzipped."""
        last = self._last
        if last is None or last[0] != token or last[1] != count:
            last = self._last = (token, count, self.fill(token, count), None)
        if not compressed or len(last[2]) < MINIMUM_BYTES:
            return last[2], False
        if last[3] is None:
            last = self._last = (*last[:3], gzip.compress(last[2], 6, mtime=0))
        assert last[3] is not None
        return last[3], True

    @classmethod
    def render(
        cls,
        service: Service,
        campaign: Campaign,
        template: str,
        language: str,
        share_url: str,
        **context: Any,
    ) -> _Page:
        theme_css, theme_hash = theme_style(campaign.theme_colour)
        content = campaign.content(language)
        html = service.templates.render(
            template,
            language,
            campaign=campaign,
            content=content,
            share_url=share_url,
            share_links=share.links(share_url, content.share_text or content.title, content.title),
            **{name: f"\x00{name}\x00" for name in _MARKS},
            countries=country_choices(language),
            confirm_days=service.settings.confirm_days,
            theme_css=theme_css,
            trusted_origins=" ".join(
                security.trusted_hosts(campaign.allowed_origins, service.campaigns.partner_origins)
            ),
            **context,
        )
        framed = context["view"] in (EMBED, COUNTER, CARD)
        embedders = [*campaign.allowed_origins, *service.campaigns.partner_origins]
        ancestors = security.frame_ancestors(embedders) if framed else ["'none'"]
        # Only the hosted page shows the video, and it may frame exactly the video's origin.
        video = campaign.video_origin if template == "hosted.html" else ""
        csp = security.content_security_policy(ancestors, theme_hash, video or "'none'")
        headers = {"Content-Security-Policy": csp, "Cache-Control": "no-store"}
        return cls(tuple(_MARK.split(html)), headers, campaign, language)


# The pages ReaderPages answers, by URL pattern: (template, view).
FAST = {
    urls.EMBED: ("embed.html", EMBED),
    urls.COUNTER: ("counter.html", COUNTER),
    urls.HOSTED: ("hosted.html", HOSTED),
}


class ReaderPages(FastPath):
    """Answers GET for a known campaign's page at `path` (one of FAST) straight from the page's
    bytes, before routing and the other middleware, with the headers they would have added
    (the security headers, gzip when the reader accepts it). Anything else goes on to the app."""

    def __init__(self, app: ASGIApp, service: Service, path: str) -> None:
        super().__init__(app, service, path)
        self.template, self.view = FAST[path]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slug = self.slug(scope)
        if not slug:
            await self.app(scope, receive, send)
            return
        service = self.service
        campaign = await service.campaigns.get(slug)
        if campaign is None:
            await self.app(scope, receive, send)
            return
        host = languages = encodings = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"accept-language":
                languages = value
            elif name == b"accept-encoding":
                encodings = value
        # Which page a request gets depends on these alone: the page for them is looked up
        # once, not worked out again (language, partner, theme, own origin) on every request.
        query = scope.get("query_string", b"")
        asked = (self.template, slug, campaign.is_open, scope.get("scheme"), host, languages, query)
        page = service.page_requests.get(asked)
        if page is None:
            request = Request(scope)
            language = reader_language(request, campaign)
            partner = partner_code(request.query_params.get("partner"))
            if self.view == COUNTER:  # the counter has no form: the partner changes nothing
                partner = None
            page = _page(service, request, campaign, self.template, language, partner, self.view)
            service.page_requests.put(asked, page)
        # While the database does not answer, the registry and the counter serve what they
        # last knew (they raise nothing): readers still get the page.
        count = await service.counter.public(campaign)
        compressed = b"gzip" in encodings
        body, gzipped = page.body(service.tokens.issue(slug), count, compressed)
        headers = (
            [*page.raw_headers, (b"content-encoding", b"gzip")] if gzipped else page.raw_headers
        )
        await self.answer(scope, send, 200, headers, body, own_csp=True)
