"""The page a confirmation email links to (widget/confirmation.py): its GET shows a button and
changes nothing, since mail scanners open links; its POST confirms. A confirmed or expired link
says so, and nothing else."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from widget import confirmation, ratelimit, security
from widget.campaigns import Campaign
from widget.service import service_of
from widget.urls import URLs
from widget.views import embed
from widget.views.embed import refusal, retry_after
from widget.views.guards import campaign_or_404, parse_form
from widget.views.pages import HOSTED, reader_language, render

TEMPLATE = "confirm.html"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STATUS = {"pending": 200, "confirmed": 200, "already": 200, "expired": 410}


def _key(request: Request) -> bytes | None:
    token = request.path_params["token"]
    if not TOKEN_RE.match(token):
        return None
    return confirmation.key(service_of(request).settings.secret, token)


async def _answer(
    request: Request, campaign: Campaign, language: str, state: str, wait: str = ""
) -> Response:
    url = URLs().confirm(campaign.slug, request.path_params["token"], lang=language)
    return await render(
        request, campaign, TEMPLATE, language=language, partner=None, view=HOSTED,
        status=429 if wait else STATUS[state], keep=False,
        extra={"state": state, "message": wait or confirmation.STATES[state], "confirm_url": url},
    )  # fmt: skip


async def page(request: Request) -> Response:
    campaign = await campaign_or_404(request)
    service = service_of(request)
    key = _key(request)
    not_before = confirmation.not_before(service.settings.confirm_days)
    state = "expired" if key is None else await service.store.confirmation_state(
        campaign.slug, key, not_before
    )  # fmt: skip
    return await _answer(request, campaign, reader_language(request, campaign), state)


async def confirm(request: Request) -> Response:
    service = service_of(request)
    campaign = await campaign_or_404(request)
    if not security.origin_allowed(request, service.settings.public_url):
        return refusal(403, embed.FOREIGN_ORIGIN, False, reader_language(request, campaign))
    wait = await service.sign_limiter.attempt(ratelimit.client_address(request))
    form = parse_form(await request.body())
    language = reader_language(request, campaign, form.get("lang", ""))
    if wait:
        return retry_after(
            await _answer(request, campaign, language, "pending", wait.message), wait
        )
    key = _key(request)
    not_before = confirmation.not_before(service.settings.confirm_days)
    state = "expired" if key is None else await service.store.confirm(
        campaign.slug, key, not_before
    )  # fmt: skip
    return await _answer(request, campaign, language, state)
