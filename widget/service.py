"""The Service: everything request handlers share, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from widget.auth import LoginLimiter
from widget.counter import Counter
from widget.partners import PartnerLinks
from widget.ratelimit import SignLimiter
from widget.registry import CampaignRegistry
from widget.sealing import Sealer
from widget.settings import Settings
from widget.signing import Tokens
from widget.store import Store
from widget.templating import Templates


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
    login_limiter: LoginLimiter
    sign_limiter: SignLimiter


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service
