"""The operators' admin: log in, campaigns, partners, stats, exports, signer deletion and the
audit log. Every handler guards first: logged in, then CSRF on every form post."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from widget import (
    auth,
    campaigns,
    chart,
    exports,
    operations,
    operators,
    partners,
    review,
    security,
    urls,
)  # fmt: skip
from widget.campaigns import Campaign, CampaignError
from widget.countries import country_choices
from widget.service import Service, service_of
from widget.urls import URLs
from widget.views.guards import campaign_or_404, parse_form

ADMIN = URLs()
TEXT_FIELDS = (
    "organisation", "title", "tagline", "target", "call_to_action", "privacy_notice",
    "thank_you", "share_text", "video_title", "video_url", "body",
)  # fmt: skip
LIST_FIELDS = ("demands", "allowed_origins")
NUMBER_FIELDS = ("counter_offset", "goal")


async def _form(request: Request) -> dict[str, str]:
    return parse_form(await request.body())


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    service = service_of(request)
    html = service.templates.render(
        template, "en", operator=auth.operator(request), csrf=auth.csrf_token(request),
        **context,
    )  # fmt: skip
    csp = security.content_security_policy(frame_src="'self'")
    headers = {"Content-Security-Policy": csp, "Cache-Control": "no-store"}
    return HTMLResponse(html, status, headers=headers)


async def _guarded_post(request: Request) -> tuple[str, dict[str, str]]:
    """For every admin form post: a logged-in operator, our own origin, a valid CSRF token."""
    who = auth.require_operator(request)
    if not security.origin_allowed(request, service_of(request).settings.public_url):
        raise HTTPException(403, "Form posts from other sites are refused.")
    form = await _form(request)
    auth.check_csrf(request, form.get("csrf"))
    return who, form


# Logging in and out ---------------------------------------------------------------------------


async def login(request: Request) -> Response:
    next_path = request.query_params.get("next", urls.ADMIN)
    if not next_path.startswith(urls.ADMIN) or "//" in next_path:
        next_path = urls.ADMIN  # never a redirect to another site
    if request.method == "GET":
        return _page(request, "admin/login.html", next=next_path, error="", email="")
    service = service_of(request)
    if not security.origin_allowed(request, service.settings.public_url):
        raise HTTPException(403, "Form posts from other sites are refused.")
    form = await _form(request)
    auth.check_csrf(request, form.get("csrf"))
    email = form.get("email", "").strip().lower()
    client = service.login_limiter.client_key(request)
    if not service.login_limiter.allowed(email, client):
        return _page(
            request, "admin/login.html", 429, next=next_path, email=email,
            error="Too many failed attempts. Wait 15 minutes and try again.",
        )  # fmt: skip
    stored = await service.store.operator_hash(email)
    if not operators.verify_password(form.get("password", ""), stored):
        service.login_limiter.failed(email, client)
        return _page(
            request, "admin/login.html", 401, next=next_path, email=email,
            error="That email and password do not match an operator account.",
        )  # fmt: skip
    auth.log_in(request, email)
    return RedirectResponse(next_path, 303)


async def logout(request: Request) -> Response:
    await _guarded_post(request)
    request.session.clear()
    return RedirectResponse(urls.ADMIN_LOGIN, 303)


# Campaigns ------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    auth.require_operator(request)
    service = service_of(request)
    since = _hours_ago(24)
    rows = []
    for campaign, signatures in await service.store.campaigns():
        stats = await service.store.stats(campaign.slug, since)
        rows.append((campaign, signatures, stats.signers, stats.last_24h))
    return _page(request, "admin/home.html", rows=rows)


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
    data["ask_postal_code"] = form.get("ask_postal_code") == "1"
    data["hold_for_review"] = form.get("hold_for_review") == "1"
    return data


async def save_campaign(service: Service, actor: str, new: Campaign) -> None:
    """Save with its audit entry, and make the running service see the change at once."""
    await operations.save_campaign(service.store, actor, new)
    await service.campaigns.reload(force=True)


async def campaign_new(request: Request) -> Response:
    if request.method == "GET":
        auth.require_operator(request)
        return _page(request, "admin/campaign_form.html", campaign=None, values={}, error=None)
    who, form = await _guarded_post(request)
    service = service_of(request)
    try:
        data = _campaign_data(form, {"slug": form.get("slug", "").strip()})
        new = campaigns.parse(data)
        if await service.campaigns.get(new.slug) is not None:
            raise CampaignError("slug", "is already used by another campaign")
    except CampaignError as exc:
        return _page(
            request, "admin/campaign_form.html", 422, campaign=None, values=form, error=exc
        )
    await save_campaign(service, who, new)
    return RedirectResponse(ADMIN.campaign(new.slug), 303)


async def campaign_edit(request: Request) -> Response:
    auth.require_operator(request)
    campaign = await campaign_or_404(request)
    if request.method == "GET":
        return await _campaign_page(request, campaign)
    who, form = await _guarded_post(request)
    try:
        new = campaigns.parse(_campaign_data(form, campaign.to_dict()))
    except CampaignError as exc:
        return await _campaign_page(request, campaign, values=form, error=exc, status=422)
    await save_campaign(service_of(request), who, new)
    return RedirectResponse(ADMIN.campaign(campaign.slug) + "?saved=1", 303)


async def _campaign_page(
    request: Request,
    campaign: Campaign,
    values: dict[str, str] | None = None,
    error: CampaignError | None = None,
    status: int = 200,
    link: str = "",
    notice: str = "",
) -> Response:
    service = service_of(request)
    stats = await service.store.stats(campaign.slug, _hours_ago(24))
    signatures = sum(n for _, n in stats.per_day)
    public = URLs(security.own_origin(request, service.settings.public_url))
    partner_list = await service.store.partners()
    return _page(
        request, "admin/campaign.html", status, campaign=campaign, values=values or {},
        error=error, stats=stats, signatures=signatures, public=public, partners=partner_list,
        chart=chart.per_day_svg(stats.per_day, f"Signatures per day: {campaign.title}"),
        country_names=dict(country_choices("en")), saved=request.query_params.get("saved"),
        link=link, kinds=exports.KINDS, notice=notice,
        domains_kept=bool(service.settings.domain_key),
    )  # fmt: skip


# Exports ----------------------------------------------------------------------------------------


def _csv(body: AsyncIterator[bytes], filename: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type=exports.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def export(request: Request) -> Response:
    auth.require_operator_for_data(request)
    campaign = await campaign_or_404(request)
    who, form = await _guarded_post(request)
    service = service_of(request)
    kind = request.path_params["kind"]
    today = datetime.now(UTC).date()
    # The server cannot open sealed names and emails: the operator and partner files come
    # sealed, for `petition-widget decrypt --private-key` on the operator's own machine.
    if kind == exports.OPERATOR:
        body = exports.sealed_csv(service.store, campaign)
    elif kind == exports.DELIVERY:
        body = exports.delivery_csv(service.store, campaign)
    elif kind == exports.PARTNER and await operations.find_partner(
        service.store, form.get("partner", "")
    ):
        body = exports.sealed_csv(service.store, campaign, only_partner=form["partner"])
    else:
        raise HTTPException(404)
    code = form.get("partner") if kind == exports.PARTNER else None
    await operations.record_export(service.store, who, campaign.slug, kind, code)
    return _csv(body, exports.filename(campaign.slug, kind, today, code))


async def partner_link(request: Request) -> Response:
    campaign = await campaign_or_404(request)
    who, form = await _guarded_post(request)
    service = service_of(request)
    code = form.get("partner", "")
    if await operations.find_partner(service.store, code) is None:
        raise HTTPException(404, "No such partner.")
    try:
        days = int(form.get("days", partners.LINK_DAYS_DEFAULT))
    except ValueError:
        days = 0
    if days not in operations.LINK_DAYS:
        raise HTTPException(422, "A link lasts from 1 to 90 days.")
    token = await operations.partner_link(
        service.store, who, service.partner_links, campaign.slug, code, days
    )
    public = URLs(security.own_origin(request, service.settings.public_url))
    return await _campaign_page(
        request, campaign, link=public.partner_export(campaign.slug, code, token)
    )


async def partner_export(request: Request) -> Response:
    """The partner's own export, reached through a signed link and no account."""
    campaign = await campaign_or_404(request)
    service = service_of(request)
    code = request.path_params["code"]
    partner = await operations.find_partner(service.store, code)
    token = request.query_params.get("token", "")
    if partner is None or not service.partner_links.check(token, campaign.slug, partner):
        raise HTTPException(401, "This export link is not valid, or it has expired.")
    if not partner.public_key:
        raise HTTPException(
            409, "This partner has registered no key, so the organisation sends its export."
        )
    await service.store.audit(f"partner:{code}", "export", campaign.slug, "partner via link")
    today = datetime.now(UTC).date()
    return _csv(
        exports.sealed_csv(service.store, campaign, partner_to=code),
        exports.filename(campaign.slug, exports.PARTNER, today, code),
    )


# Partners, signers, audit -----------------------------------------------------------------------


async def partner_list(request: Request) -> Response:
    auth.require_operator(request)
    if request.method == "GET":
        partner_rows = await service_of(request).store.partners()
        return _page(request, "admin/partners.html", partners=partner_rows, error=None, values={})
    who, form = await _guarded_post(request)
    service = service_of(request)
    try:
        partner = partners.make_partner(
            form.get("code", ""), form.get("name", ""), form.get("contact", ""),
            form.get("origins", "").split(), form.get("public_key", ""),
        )  # fmt: skip
    except CampaignError as exc:
        rows = await service.store.partners()
        return _page(request, "admin/partners.html", 422, partners=rows, error=exc, values=form)
    await operations.save_partner(service.store, who, partner)
    await service.campaigns.reload(force=True)
    return RedirectResponse(urls.ADMIN_PARTNERS, 303)


async def partner_rotate(request: Request) -> Response:
    who, _ = await _guarded_post(request)
    service = service_of(request)
    code = request.path_params["code"]
    if await operations.find_partner(service.store, code) is None:
        raise HTTPException(404)
    await operations.rotate_partner_key(service.store, who, code)
    return RedirectResponse(urls.ADMIN_PARTNERS, 303)


async def signers(request: Request) -> Response:
    auth.require_operator(request)
    if request.method == "GET":
        return _page(request, "admin/signers.html", result=None, error="")
    who, form = await _guarded_post(request)
    service = service_of(request)
    try:
        removed = await operations.delete_signer(
            service.store, who, service.settings.secret, form.get("email", ""),
            form.get("campaign") or None,
        )  # fmt: skip
    except operations.OperationError as exc:
        return _page(request, "admin/signers.html", 422, result=None, error=str(exc))
    return _page(request, "admin/signers.html", result=removed, error="")


async def review_action(request: Request) -> Response:
    """Release held signatures, invalidate a flood, or purge a closed campaign's data."""
    campaign = await campaign_or_404(request)
    who, form = await _guarded_post(request)
    service = service_of(request)
    action = request.path_params["action"]
    store, slug = service.store, campaign.slug
    try:
        if action == "release":
            n = await operations.release(store, who, slug)
            detail = f"{n} signature(s)"
        elif action == "invalidate":
            which = review.parse_invalidation(
                form.get("partner"), form.get("since"), form.get("until"), form.get("email_domain")
            )
            n = await operations.invalidate(store, who, slug, which, service.settings.domain_key)
            detail = f"{n} by {which.describe()}"
        elif action == "purge":
            days = int(form["days"]) if form.get("days", "").isdigit() else -1
            n = await operations.purge(store, who, slug, days)
            detail = f"{n} signature(s) older than {days} days"
        else:
            raise HTTPException(404)
    except review.ReviewError as exc:
        return await _campaign_page(request, campaign, status=422, notice=str(exc))
    return await _campaign_page(request, campaign, notice=f"{action}: {detail}.")


async def audit_log(request: Request) -> Response:
    auth.require_operator(request)
    entries = await service_of(request).store.audit_log()
    return _page(request, "admin/audit.html", entries=entries)


def _hours_ago(hours: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
