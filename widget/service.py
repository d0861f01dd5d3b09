"""The Service: everything request handlers share, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from widget.cache import BoundedCache
from widget.confirmation import Letter
from widget.counter import Counter
from widget.logins import LoginLimiter
from widget.mail import Outbox
from widget.partners import PartnerLinks
from widget.passkeys import Ceremonies
from widget.ratelimit import SignLimiter
from widget.registry import CampaignRegistry
from widget.sealing import Sealer
from widget.settings import Settings
from widget.signing import Tokens
from widget.store import Store
from widget.templating import Templates
from widget.withdrawal import Receipts


@dataclass
class Service:
    settings: Settings
    store: Store
    counter: Counter
    campaigns: CampaignRegistry
    tokens: Tokens
    templates: Templates
    embed_js: bytes
    partner_links: PartnerLinks
    sealer: Sealer
    logins: LoginLimiter
    ceremonies: Ceremonies
    sign_limiter: SignLimiter
    receipts: Receipts
    # Confirmation emails waiting to go; None without PETITION_WIDGET_SMTP_URL.
    outbox: Outbox[Letter] | None = None
    # Reader pages rendered once per campaign, language, partner and page (views/embed.py),
    # emptied whenever the registry reloads campaigns and partners.
    pages: BoundedCache[tuple[Any, ...], Any] = field(default_factory=lambda: BoundedCache(2048))
    # The page each kind of request gets (views/pages.py ReaderPages), emptied with `pages`.
    page_requests: BoundedCache[tuple[Any, ...], Any] = field(
        default_factory=lambda: BoundedCache(4096)
    )
    # Counter JSON answers (views/api.py CounterAnswer), per (slug, title, count, goal, status).
    counter_bodies: BoundedCache[tuple[Any, ...], Any] = field(
        default_factory=lambda: BoundedCache(4096)
    )


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service
