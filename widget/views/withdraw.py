"""Withdrawing a signature with the code its signer was shown: no email, no account. Every code
that removes nothing (unknown, used, or another campaign's) gets one and the same answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from widget import ratelimit, security, withdrawal
from widget.i18n import N_
from widget.service import service_of
from widget.store import WITHDRAWAL, Audit, StoreError
from widget.views import embed
from widget.views.embed import refusal, retry_after
from widget.views.guards import campaign_or_404, parse_form
from widget.views.pages import HOSTED, reader_language, render

TEMPLATE = "withdraw.html"
NOT_DONE = N_("We could not withdraw your signature just now. Please try again.")
# Written when a code removed a signature; it names neither the signer nor the code.
AUDIT = Audit("signer", WITHDRAWAL, None, "a signer withdrew a signature with its code")


async def form(request: Request) -> Response:
    campaign = await campaign_or_404(request)
    language = reader_language(request, campaign)
    return await render(request, campaign, TEMPLATE, language=language, partner=None, view=HOSTED)


async def withdraw(request: Request) -> Response:
    """A closed campaign's signers may withdraw too: closing does not take that away."""
    service = service_of(request)
    campaign = await campaign_or_404(request)
    if not security.origin_allowed(request, service.settings.public_url):
        return refusal(403, embed.FOREIGN_ORIGIN, False, reader_language(request, campaign))
    # Codes are 80 bits, so guessing is hopeless; the limit keeps the database from being
    # asked to try.
    wait = await service.sign_limiter.attempt(ratelimit.client_address(request))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return refusal(415, embed.NOT_URLENCODED, False, reader_language(request, campaign))
    typed = parse_form(await request.body())
    language = reader_language(request, campaign, typed.get("lang", ""))

    async def answer(status: int, message: str = "", error: str = "") -> Response:
        return await render(
            request, campaign, TEMPLATE, language=language, partner=None, view=HOSTED,
            status=status, values={"code": typed.get("code", "")[:64]} if error else None,
            errors={"code": error} if error else None, extra={"done": message}, keep=False,
        )  # fmt: skip

    if wait:
        return retry_after(await answer(429, error=wait.message), wait)
    try:
        key = withdrawal.key(service.settings.secret, typed.get("code", ""))
    except ValueError as exc:
        return await answer(422, error=str(exc))
    try:
        audit = AUDIT._replace(campaign=campaign.slug)
        removed = await service.store.withdraw(campaign.slug, key, audit)
    except StoreError:
        return await answer(503, error=NOT_DONE)
    if not removed:
        return await answer(422, error=withdrawal.NO_MATCH)
    return await answer(200, message=withdrawal.WITHDRAWN)
