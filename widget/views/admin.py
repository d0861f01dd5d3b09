"""The operators' admin: campaigns (list, create, edit, stats) and the helpers every admin page
shares (the page, the guards, the fresh password for dangerous acts). Logging in and out and
sessions are in views/admin_login.py, passkeys in views/admin_passkeys.py, the records
(exports, partners, signers, review, audit) in views/admin_records.py. Every handler guards
first: logged in, then CSRF on every form post; one handler per method."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from widget import (
    auth,
    campaigns,
    chart,
    exports,
    operations,
    security,
)  # fmt: skip
from widget.campaigns import Campaign, CampaignError
from widget.countries import country_choices
from widget.ratelimit import client_address
from widget.service import Service, service_of
from widget.snippets import snippet
from widget.store.types import Stats
from widget.templating import describe_colour
from widget.texts import LANGUAGES
from widget.texts import TEXT_FIELDS as CONTENT_FIELDS
from widget.urls import URLs
from widget.views.guards import campaign_or_404, parse_form

ADMIN = URLs()
WRONG_PASSWORD = "That is not the right password."  # noqa: S105 - a message, not a password
# What every operator sees on the admin's front page: the latest acts that could hurt signers.
DANGEROUS_ACTIONS = (
    "export", "partner.link", "signer.delete", "invalidate", "purge", "partner.save",
    "operator.add", "operator.password", "operator.remove", "session.end", "forget-domains",
    "operator.reset-2fa", "operator.passkey-add", "operator.passkey-remove",
    "operator.recovery-codes", "operator.recovery-code",
)  # fmt: skip
TEXT_FIELDS = (
    "organisation", "title", "tagline", "target", "call_to_action", "privacy_notice",
    "thank_you", "share_text", "video_title", "video_url", "body",
)  # fmt: skip
LIST_FIELDS = ("demands", "allowed_origins")
NUMBER_FIELDS = ("counter_offset", "counter_minimum", "goal", "purge_after_days")


async def form_of(request: Request) -> dict[str, str]:
    return parse_form(await request.body())


# What operators read for each field: in the forms and in the errors (never a raw name).
LABELS = {
    "slug": "Slug (part of every address)",
    "organisation": "Organisation",
    "title": "Title",
    "tagline": "Tagline",
    "target": "Target (who the petition is addressed to)",
    "body": "Body",
    "call_to_action": "Call to action",
    "demands": "Demands",
    "privacy_notice": "Privacy promise (shown next to the button)",
    "thank_you": "Thank-you text",
    "share_text": "Share text",
    "video_title": "Video title",
    "video_url": "Video address (https://)",
    "counter_offset": "Counter offset (added to the real signatures)",
    "counter_minimum": "Counter minimum (empty for none)",
    "goal": "Goal (empty for none)",
    "allowed_origins": "Sites that may embed it",
    "theme_colour": "Theme colour (#rrggbb)",
    "closes_at": "Closes at (date, time and zone; empty for none)",
    "purge_after_days": "Purge personal data after (days after closing; empty for never)",
    "status": "Status",
    "language": "Default language",
    "code": "Code (as in data-partner)",
    "name": "Display name",
    "contact": "Contact",
    "origins": "Origins it may embed from (space-separated)",
    "public_key": "The partner's public key (optional; from petition-widget keys generate)",
}


def page(
    request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
    sealed_off: bool = False, **context: Any,
) -> HTMLResponse:  # fmt: skip
    service = service_of(request)
    html = service.templates.render(
        template, "en", operator=auth.operator(request), labels=LABELS,
        csrf=auth.csrf_token(request, service.settings.secret), **context,
    )  # fmt: skip
    csp = security.content_security_policy(frame_src="'self'", sealed_off=sealed_off)
    every = {"Content-Security-Policy": csp, "Cache-Control": "no-store", **(headers or {})}
    return HTMLResponse(html, status, headers=every)


async def guarded_post(request: Request, enrolling: bool = False) -> tuple[str, dict[str, str]]:
    """For every admin form post: a logged-in operator, our own origin, a valid CSRF token."""
    who = auth.require_operator(request, enrolling)
    service = service_of(request)
    if not security.origin_allowed(request, service.settings.public_url):
        raise HTTPException(403, "Form posts from other sites are refused.")
    form = await form_of(request)
    auth.check_csrf(request, service.settings.secret, form.get("csrf"))
    return who, form


async def confirmed(request: Request, who: str, form: dict[str, str]) -> None:
    """Guards a dangerous act (an export, deleting or uncounting signatures, a partner's key
    or origins): the operator's password must have been given within the last few minutes,
    at login or here. Otherwise ConfirmRequired answers with a page that asks for it and sends
    the same form again; a wrong password counts against the login limits."""
    found = auth.current(request)
    if found is None:
        raise auth.LoginRequired
    if found.fresh:
        return
    password = form.get(auth.CONFIRM_FIELD)
    if password is None:
        raise auth.ConfirmRequired(form)
    service = service_of(request)
    refused = await _checked_password(request, who, password)
    if refused:
        raise auth.ConfirmRequired(form, refused)
    await service.store.touch_session(found.session.id, verified=True)


async def _checked_password(request: Request, email: str, password: str) -> str:
    """Check an operator's password within the login limits: "" if it is right, else why not."""
    service = service_of(request)
    address = client_address(request)
    wait = await service.logins.wait(email, address)
    if wait:
        return f"Too many wrong passwords from your network. Try again in {_duration(wait)}."
    await asyncio.sleep(await service.logins.delay(email))
    if await service.logins.check_password(password, await service.store.operator_hash(email)):
        return ""
    await service.logins.failed(email, address)
    return WRONG_PASSWORD


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


async def confirm_page(request: Request, exc: Exception) -> Response:
    """The answer to ConfirmRequired: the password field, and the form to send again."""
    assert isinstance(exc, auth.ConfirmRequired)
    return page(
        request, "admin/confirm.html", 401 if exc.error else 200, error=exc.error,
        action=str(request.url.path), fields=auth.replayed_fields(exc.form),
    )  # fmt: skip


# Campaigns ------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    auth.require_operator(request)
    service = service_of(request)
    since = hours_ago(24)
    rows = []
    for campaign, signatures in await service.store.campaigns():
        stats = await service.store.stats(campaign.slug, since)
        rows.append((campaign, signatures, stats.signers, stats.last_24h))
    recent = await service.store.audit_log(10, DANGEROUS_ACTIONS)
    return page(request, "admin/home.html", rows=rows, recent=recent)


def _campaign_data(form: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """Campaign data from the edit form, over the stored data (so fields the form does not
    show, such as translations, are kept)."""
    data = dict(base)
    for name in TEXT_FIELDS:
        data[name] = form.get(name, "")
    for name in LIST_FIELDS:
        data[name] = [line.strip() for line in form.get(name, "").splitlines() if line.strip()]
    if not data["allowed_origins"]:
        data["allowed_origins"] = [campaigns.ANY_ORIGIN]
    for name in NUMBER_FIELDS:
        raw = form.get(name, "").strip()
        if not raw:
            data.pop(name, None)
            continue
        try:
            data[name] = int(raw)
        except ValueError:
            raise CampaignError(name, "must be a whole number") from None
    data["status"] = form.get("status", campaigns.OPEN)
    data["language"] = form.get("language", "en")
    data["theme_colour"] = form.get("theme_colour", "")
    data["closes_at"] = form.get("closes_at", "").strip()
    data["ask_postal_code"] = form.get("ask_postal_code") == "1"
    data["hold_for_review"] = form.get("hold_for_review") == "1"
    data["confirm_email"] = form.get("confirm_email") == "1"
    return data


async def save_campaign(service: Service, actor: str, new: Campaign) -> None:
    """Save with its audit entry, and make the running service see the change at once."""
    await operations.save_campaign(service.store, actor, new)
    await service.campaigns.reload(force=True)


async def campaign_form(request: Request) -> Response:
    auth.require_operator(request)
    return page(request, "admin/campaign_form.html", campaign=None, values={}, error=None)


async def campaign_create(request: Request) -> Response:
    who, form = await guarded_post(request)
    service = service_of(request)
    try:
        data = _campaign_data(form, {"slug": form.get("slug", "").strip()})
        new = campaigns.parse(data)
        if await service.campaigns.get(new.slug) is not None:
            raise CampaignError("slug", "is already used by another campaign")
    except CampaignError as exc:
        return page(request, "admin/campaign_form.html", 422, campaign=None, values=form, error=exc)
    await save_campaign(service, who, new)
    return RedirectResponse(ADMIN.campaign(new.slug), 303)


async def campaign_show(request: Request) -> Response:
    auth.require_operator(request)
    return await campaign_page(request, await campaign_or_404(request))


async def campaign_update(request: Request) -> Response:
    auth.require_operator(request)
    campaign = await campaign_or_404(request)
    who, form = await guarded_post(request)
    try:
        new = campaigns.parse(_campaign_data(form, campaign.to_dict()))
    except CampaignError as exc:
        return await campaign_page(request, campaign, values=form, error=exc, status=422)
    await save_campaign(service_of(request), who, new)
    return RedirectResponse(ADMIN.campaign(campaign.slug) + "?saved=1", 303)


async def campaign_page(
    request: Request,
    campaign: Campaign,
    values: dict[str, str] | None = None,
    error: CampaignError | None = None,
    status: int = 200,
    link: str = "",
    notice: str = "",
    problem: str = "",
) -> Response:
    service = service_of(request)
    stats = await service.store.stats(campaign.slug, hours_ago(24))
    signatures = sum(n for _, n in stats.per_day)
    public = URLs(security.own_origin(request, service.settings.public_url))
    partner_list = await service.store.partners()
    built = _snippets(request, campaign, public, {p.code for p in partner_list})
    return page(
        request, "admin/campaign.html", status, campaign=campaign, values=values or {},
        error=error, stats=stats, signatures=signatures, public=public, partners=partner_list,
        snippet=snippet,
        chart=_chart(stats, campaign.title), hourly=_hourly(stats),
        country_names=dict(country_choices("en")), saved=request.query_params.get("saved"),
        link=link, kinds=exports.KINDS, notice=notice, problem=problem, built=built,
        colour_hint=describe_colour(campaign.theme_colour),
        text_fields=CONTENT_FIELDS,
        domains_kept=bool(service.settings.domain_key),
    )  # fmt: skip


# The iframe-only code: the README's, with a height that fits the form on a 360 px phone.
IFRAME_CODE = (
    '<iframe src="{src}" title="Petition" loading="lazy"\n'
    '        style="display:block;width:100%;max-width:40rem;height:{height}px;border:0;'
    'margin:0 auto"></iframe>'
)


def _snippets(
    request: Request, campaign: Campaign, public: URLs, codes: set[str]
) -> dict[str, str]:
    """The snippet builder's choice (partner, language, what to show) from the query, and
    the codes for it: the snippet, the iframe-only code, the hosted page and a preview."""
    query = request.query_params
    partner = query.get("sn_partner", "") if query.get("sn_partner", "") in codes else ""
    lang = query.get("sn_lang", "")
    lang = lang if lang in LANGUAGES else campaign.language
    mode = query.get("sn_mode", "") if query.get("sn_mode") in ("counter", "click") else ""
    counter = mode == "counter"
    slug, who = campaign.slug, partner or None
    frame = public.counter(slug, lang=lang) if counter else public.embed(slug, who, lang)
    return {
        "partner": partner, "lang": lang, "mode": mode,
        "snippet": snippet(public, slug, lang, who, "counter" if counter else None,
                           "click" if mode == "click" else None),
        "iframe": IFRAME_CODE.format(src=escape(frame), height=90 if counter else 1050),
        "hosted": public.hosted(slug, lang=lang, partner=who),
        "preview": (ADMIN.counter(slug, lang=lang) if counter else ADMIN.embed(slug, who, lang)),
    }  # fmt: skip


def _hourly(stats: Stats) -> bool:
    """Per hour while every signature is from one day (a day is one bar), else per day."""
    return len(stats.per_day) <= 1 and bool(stats.per_hour)


def _chart(stats: Stats, title: str) -> Markup:
    if _hourly(stats):
        return chart.per_hour_svg(stats.per_hour, f"Signatures per hour (UTC): {title}")
    return chart.per_day_svg(stats.per_day, f"Signatures per day: {title}")


def hours_ago(hours: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_response(body: AsyncIterator[bytes], filename: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=exports.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
