"""The Service: everything request handlers share, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from widget.counter import Counter
from widget.registry import CampaignRegistry
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


def service_of(request: Request) -> Service:
    return request.app.state.service
