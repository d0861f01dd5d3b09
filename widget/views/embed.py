"""The reader's pages: the iframe document, the counter, the hosted page, signing and the
thank-you page. Handlers guard first, then make one call into the domain; the pages themselves
are made in views/pages.py."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from widget import confirmation, counter, i18n, ratelimit, security, signing, withdrawal
from widget.i18n import N_
from widget.service import service_of
from widget.store import StoreError
from widget.urls import URLs
from widget.views.guards import campaign_or_404, parse_form
from widget.views.pages import (
    CARD,
    COUNTER,
    EMBED,
    HOSTED,
    THEMES,
    partner_code,
    reader_language,
    render,
)

log = logging.getLogger(__name__)
FORM_FIELDS = (
    "first_name", "last_name", "email", "country", "postal_code", "opt_in", "partner_opt_in",
)  # fmt: skip
NOT_STORED = N_("We could not record your signature just now. Please try again.")
CLOSED = N_("This petition is closed.")
FOREIGN_ORIGIN = N_("Form posts from other sites are refused.")
NOT_URLENCODED = N_("Send the form as application/x-www-form-urlencoded.")


async def _petition(request: Request, template: str, view: str) -> Response:
    campaign = await campaign_or_404(request)
    return await render(
        request, campaign, template, language=reader_language(request, campaign),
        partner=partner_code(request.query_params.get("partner")), view=view,
    )  # fmt: skip


async def embed(request: Request) -> Response:
    return await _petition(request, "embed.html", EMBED)


async def counter_frame(request: Request) -> Response:
    campaign = await campaign_or_404(request)
    return await render(
        request, campaign, "counter.html", language=reader_language(request, campaign),
        partner=None, view=COUNTER,
    )  # fmt: skip


async def card_frame(request: Request) -> Response:
    """The counter with a button to the hosted page: what oEmbed embeds (views/oembed.py)."""
    campaign = await campaign_or_404(request)
    language = reader_language(request, campaign)
    partner = partner_code(request.query_params.get("partner"))
    hosted_url = URLs().hosted(campaign.slug, lang=language, partner=partner)
    return await render(
        request, campaign, "card.html", language=language, partner=partner, view=CARD,
        extra={"hosted_url": hosted_url},
    )  # fmt: skip


async def hosted(request: Request) -> Response:
    return await _petition(request, "hosted.html", HOSTED)


async def thanks(request: Request) -> Response:
    """The thank-you page after a form post without JavaScript; in its first minutes, with
    the withdrawal code its receipt carries."""
    campaign = await campaign_or_404(request)
    view = EMBED if request.query_params.get("view") == EMBED else HOSTED
    receipt = request.query_params.get("receipt", "")
    return await render(
        request, campaign, "thanks.html", language=reader_language(request, campaign),
        partner=partner_code(request.query_params.get("partner")), view=view,
        withdraw_code=service_of(request).receipts.open(receipt, campaign.slug),
    )  # fmt: skip


async def sign(request: Request) -> Response:
    service = service_of(request)
    campaign = await campaign_or_404(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    if not security.origin_allowed(request, service.settings.public_url):
        return refusal(403, FOREIGN_ORIGIN, wants_json, reader_language(request, campaign))
    # Every attempt counts against its client, junk included, so a flood of junk is limited
    # too. The 429 waits until the form is read, so the page keeps what the reader typed.
    wait = await service.sign_limiter.attempt(ratelimit.client_address(request))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return refusal(415, NOT_URLENCODED, wants_json, reader_language(request, campaign))
    form = parse_form(await request.body())
    language = reader_language(request, campaign, form.get("lang", ""))
    view = EMBED if form.get("view") == EMBED else HOSTED
    partner = partner_code(form.get("partner"))
    values = {name: form.get(name, "") for name in FORM_FIELDS}

    async def again(
        status: int, errors: dict[str, str], token: str | None = None, retry: bool = False
    ) -> Response:
        token = token or service.tokens.issue(campaign.slug)
        if wants_json:
            gettext = i18n.translations(language).gettext
            body = {
                "ok": False,
                "errors": {name: gettext(message) for name, message in errors.items()},
                "token": token,
            }
            if retry:  # frame.js sends the form again at once, with the new token
                body["retry"] = True
            return JSONResponse(body, status)
        page = "embed.html" if view == EMBED else "hosted.html"
        return await render(
            request, campaign, page, language=language, partner=partner, view=view,
            status=status, values=values, errors=errors, token=token,
        )  # fmt: skip

    if wait:
        return retry_after(await again(429, {"form": wait.message}), wait)
    if not campaign.is_open:
        return await again(403, {"form": CLOSED})
    screened, shown_at = signing.screen(form, service.tokens, campaign.slug)
    if screened == signing.HONEYPOT_FILLED:
        return await again(422, {"form": screened})
    # What is missing first: the fields, then the timing. The next token keeps the time the
    # form was first shown, or, after a refusal that says "submit again", passes at once.
    signature, errors = signing.accept(
        form, campaign, service.settings.secret, service.settings.domain_key
    )
    if signature is None:
        keep = shown_at is not None
        token = service.tokens.issue(campaign.slug, shown_at) if keep else None
        return await again(422, errors, token or service.tokens.issue_ready(campaign.slug))
    if screened:
        retry = screened == signing.TOKEN_EXPIRED
        return await again(
            422, {"form": screened}, service.tokens.issue_ready(campaign.slug), retry
        )
    # Per campaign only valid signatures count, so junk from one client cannot lock a campaign.
    wait = await service.sign_limiter.admit(campaign.slug)
    if wait:
        return retry_after(await again(429, {"form": wait.message}), wait)
    registered = service.campaigns.partners.get(signature.partner or "")
    code = withdrawal.new_code()
    # With confirmation by email, every signature gets a link, a repeat included; whether the
    # address had confirmed before is asked only by the mail queue, after this answer.
    link = confirmation.new_token() if campaign.confirm_email else ""
    if link and service.outbox is None:
        log.error(
            "campaign %r asks for confirmation by email, and no SMTP_URL is set", campaign.slug
        )
        return await again(503, {"form": NOT_STORED})
    sealed = service.sealer.seal(
        signature, registered.public_key if registered else "", held=campaign.hold_for_review,
        withdraw_key=withdrawal.key(service.settings.secret, code),
        confirm_key=confirmation.key(service.settings.secret, link) if link else None,
    )  # fmt: skip
    try:
        await service.store.add_signature(sealed)
    except StoreError:
        return await again(503, {"form": NOT_STORED})
    if link and service.outbox is not None:
        origin = security.own_origin(request, service.settings.public_url)
        service.outbox.post(confirmation.Letter(
            signature.email, campaign.slug, language, link, signature.email_key, origin,
        ))  # fmt: skip

    if wants_json:
        # The code goes to our own page in the iframe (frame.js), never to the host page.
        count = await service.counter.public(campaign)
        return JSONResponse({
            "ok": True, "count": count,
            "count_text": counter.headline(count, campaign.counter_minimum, language),
            "goal_text": counter.goal_text(
                count, campaign.goal, campaign.counter_minimum, language
            ),
            "withdraw_code": code, "pending": bool(link),
        })  # fmt: skip
    receipt = service.receipts.issue(campaign.slug, code)
    return RedirectResponse(
        URLs().thanks(
            campaign.slug,
            lang=language,
            partner=partner,
            view=view,
            receipt=receipt,
            theme=form.get("theme", "") if form.get("theme") in THEMES else "",
        ),
        303,
    )


def retry_after(response: Response, wait: ratelimit.Wait) -> Response:
    response.headers["Retry-After"] = str(wait.retry_after)
    return response


def refusal(status: int, message: str, wants_json: bool, language: str) -> Response:
    """A request refused before its form is read. The error page translates the message."""
    if wants_json:
        text = i18n.translations(language).gettext(message)
        return JSONResponse({"ok": False, "errors": {"form": text}}, status)
    raise HTTPException(status, message)
