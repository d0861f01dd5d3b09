"""The admin's records: exports, partners and their links, signers' requests, holds and
invalidation, and the audit log. Every handler guards first: an operator, then CSRF on every
form post; each action is one call into widget/operations.py."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from widget import auth, exports, operations, partners, review, security, urls
from widget.campaigns import Campaign, CampaignError
from widget.service import service_of
from widget.urls import URLs
from widget.views.admin import confirmed, csv_response, guarded_post, page
from widget.views.admin_campaigns import campaign_page
from widget.views.guards import campaign_or_404

# Exports ----------------------------------------------------------------------------------------


async def export(request: Request) -> Response:
    auth.require_operator_for_data(request)
    campaign = await campaign_or_404(request)
    who, form = await guarded_post(request)
    await confirmed(request, who, form)
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
    return csv_response(body, exports.filename(campaign.slug, kind, today, code))


async def partner_link(request: Request) -> Response:
    campaign = await campaign_or_404(request)
    who, form = await guarded_post(request)
    await confirmed(request, who, form)
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
    return await campaign_page(
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
    return csv_response(
        exports.sealed_csv(service.store, campaign, partner_to=code, key_since=partner.key_since),
        exports.filename(campaign.slug, exports.PARTNER, today, code),
    )


# Partners, signers, audit -----------------------------------------------------------------------


async def partner_list(request: Request) -> Response:
    """The partners, and a form to add one; with ?edit=CODE, the form holds what is stored of
    that partner, so that changing one field keeps the others."""
    auth.require_operator(request)
    rows = await service_of(request).store.partners()
    editing = operations.partner_in(rows, request.query_params.get("edit", ""))
    values = {} if editing is None else {
        "code": editing.code, "name": editing.name, "contact": editing.contact,
        "origins": " ".join(editing.origins), "public_key": editing.public_key,
    }  # fmt: skip
    return page(
        request, "admin/partners.html", partners=rows, error=None, values=values,
        editing=editing,
    )  # fmt: skip


async def partner_save(request: Request) -> Response:
    """Add a partner, or change one from its Edit form. The form for a new one cannot replace
    a partner that exists (what it leaves blank would be lost)."""
    who, form = await guarded_post(request)
    service = service_of(request)
    code = form.get("code", "").strip()
    rows = await service.store.partners()
    existing = operations.partner_in(rows, code)
    editing = existing if existing is not None and form.get("editing") == code else None
    try:
        if existing is not None and editing is None:
            raise CampaignError("code", "is another partner's: use its Edit link to change it")
        partner = partners.make_partner(
            code, form.get("name", ""), form.get("contact", ""),
            form.get("origins", "").split(), form.get("public_key", ""),
        )  # fmt: skip
    except CampaignError as exc:
        return page(
            request, "admin/partners.html", 422, partners=rows, error=exc, values=form,
            editing=editing,
        )  # fmt: skip
    if existing is None or (existing.public_key, existing.origins) != (
        partner.public_key, partner.origins
    ):  # fmt: skip
        # A new key would seal future opt-ins to whoever holds it; new origins hear of signing.
        await confirmed(request, who, form)
    await operations.save_partner(service.store, who, partner)
    await service.campaigns.reload(force=True)
    return RedirectResponse(urls.ADMIN_PARTNERS, 303)


async def partner_rotate(request: Request) -> Response:
    who, _ = await guarded_post(request)
    service = service_of(request)
    try:
        await operations.rotate_partner_key(service.store, who, request.path_params["code"])
    except operations.OperationError:
        raise HTTPException(404) from None
    return RedirectResponse(urls.ADMIN_PARTNERS, 303)


async def partner_remove(request: Request) -> Response:
    who, _ = await guarded_post(request)
    service = service_of(request)
    try:
        await operations.remove_partner(service.store, who, request.path_params["code"])
    except operations.OperationError:
        raise HTTPException(404) from None
    await service.campaigns.reload(force=True)
    return RedirectResponse(urls.ADMIN_PARTNERS, 303)


async def signers(request: Request) -> Response:
    auth.require_operator(request)
    return page(request, "admin/signers.html", result=None, error="")


async def signer_delete(request: Request) -> Response:
    who, form = await guarded_post(request)
    await confirmed(request, who, form)
    service = service_of(request)
    try:
        removed = await operations.delete_signer(
            service.store, who, service.settings.secret, form.get("email", ""),
            form.get("campaign") or None,
        )  # fmt: skip
    except operations.OperationError as exc:
        return page(request, "admin/signers.html", 422, result=None, error=str(exc))
    return page(request, "admin/signers.html", result=removed, error="")


async def review_action(request: Request) -> Response:
    """Release held signatures, invalidate a flood, or purge a closed campaign's data."""
    campaign = await campaign_or_404(request)
    who, form = await guarded_post(request)
    service = service_of(request)
    action = request.path_params["action"]
    store, slug = service.store, campaign.slug
    if action in ("invalidate", "purge") and form.get("proceed") != "1":
        return await _preview(request, who, campaign, action, form)
    if action != "release":  # releasing only counts what an operator held back
        await confirmed(request, who, form)
    try:
        if action == "release":  # what the page shows: up to the period's start, if stepped
            n = await operations.release(store, who, slug, service.counter.period_start(campaign))
            detail = f"{n} signature(s)"
        elif action == "invalidate":
            which = _invalidation(form)
            n = await operations.invalidate(store, who, slug, which, service.settings.domain_key)
            detail = f"{n} by {which.describe()}"
        elif action == "purge":
            days = _days(form)
            n = await operations.purge(store, who, slug, days)
            detail = f"{n} signature(s) older than {days} days"
        else:
            raise HTTPException(404)
    except review.ReviewError as exc:
        return await campaign_page(request, campaign, status=422, problem=str(exc))
    return await campaign_page(request, campaign, notice=f"{action}: {detail}.")


def _invalidation(form: dict[str, str]) -> review.Invalidation:
    return review.parse_invalidation(
        form.get("partner"), form.get("since"), form.get("until"), form.get("email_domain")
    )


def _days(form: dict[str, str]) -> int:
    """The purge's "older than" days; -1 (refused by review) for anything but a number."""
    return int(form["days"]) if form.get("days", "").isdigit() else -1


TITLES = {
    "invalidate": "Invalidate {n} signature(s)",
    "purge": "Purge the personal data of {n} signature(s)",
}


def _consequence(action: str, campaign: Campaign, n: int, counted: int) -> str:
    """What a careful act does, said before it is done."""
    if action == "purge":
        return (
            "Their names, email addresses and postal codes are removed for good; the counts "
            "stay. The audit log records it. Nothing can bring the data back."
        )
    then = " The audit log records it. The admin cannot count them again."
    if not counted:
        return (
            "They stay stored and are marked invalid. None of them counted (held for review or "
            "awaiting confirmation), so no count drops." + then
        )
    drops = f"the public count drops by {counted}"
    if campaign.count_every_hours:
        drops = f"the count drops by {counted}, and the public count with it at its next update"
    held = (
        f" {n - counted} of them, held for review or awaiting confirmation, did not count."
        if n > counted else ""
    )  # fmt: skip
    return f"They stay stored, marked invalid, and no longer count: {drops}.{held}" + then


async def _preview(
    request: Request, who: str, campaign: Campaign, action: str, form: dict[str, str]
) -> Response:
    """How many signatures the act would touch, and a button to go on: nothing changes yet.
    A count that tells more than the admin's figures (by email domain, or on a campaign
    counted in steps) needs a fresh password, like the act, and is in the audit log."""
    service = service_of(request)
    try:
        if action == "invalidate":
            which = _invalidation(form)
            if operations.sensitive_count(campaign, which):
                await confirmed(request, who, form)
            n, counted = await operations.count_invalidatable(
                service.store, who, campaign.slug, which, service.settings.domain_key
            )
            matching = which.describe()
        else:
            days = _days(form)
            n = counted = await operations.count_purgeable(service.store, campaign.slug, days)
            matching = f"older than {days} day(s)"
    except review.ReviewError as exc:
        return await campaign_page(request, campaign, status=422, problem=str(exc))
    kept = [(k, v) for k, v in form.items() if k not in ("csrf", "proceed", auth.CONFIRM_FIELD)]
    return page(
        request, "admin/review_confirm.html", campaign=campaign, action=action, n=n,
        title=TITLES[action].format(n=n), consequence=_consequence(action, campaign, n, counted),
        matching=matching, fields=kept,
    )  # fmt: skip


async def decrypt_page(request: Request) -> Response:
    """Opening a sealed export in the operator's browser: the page reads the export and the
    private key from the operator's own files and decrypts there; its CSP lets it send nothing
    anywhere, so neither the key nor a name can leave the browser."""
    auth.require_operator(request)
    keys = len(await service_of(request).store.public_keys_sealed_to())
    return page(request, "admin/decrypt.html", sealed_off=True, keys=keys)


async def audit_log(request: Request) -> Response:
    auth.require_operator(request)
    entries = await service_of(request).store.audit_log()
    return page(request, "admin/audit.html", entries=entries)
