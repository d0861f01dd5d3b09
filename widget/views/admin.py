"""The operators' admin: the front page (campaigns, recent dangerous acts) and the helpers every
admin page shares (the page, the guards, the fresh password for dangerous acts). A campaign's
pages are in views/admin_campaigns.py, logging in and out and sessions in
views/admin_login.py, passkeys in views/admin_passkeys.py, the records (exports, partners,
signers, review, audit) in views/admin_records.py. Every handler guards
first: logged in, then CSRF on every form post; one handler per method."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from widget import (
    auth,
    exports,
    security,
)  # fmt: skip
from widget.ratelimit import client_address
from widget.service import service_of
from widget.urls import URLs
from widget.views.guards import parse_form

ADMIN = URLs()
WRONG_PASSWORD = "That is not the right password."  # noqa: S105 - a message, not a password
# What every operator sees on the admin's front page: the latest acts that could hurt signers.
DANGEROUS_ACTIONS = (
    "export", "partner.link", "signer.delete", "invalidate", "invalidate.count", "purge",
    "partner.save", "campaign.origins", "campaign.schedule", "campaign.confirm-email",
    "campaign.video", "campaign.count", "operator.add",
    "operator.password", "operator.remove", "session.end", "forget-domains",
    "operator.reset-2fa", "operator.passkey-add", "operator.passkey-remove",
    "operator.recovery-codes", "operator.recovery-code", "backup",
)  # fmt: skip


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
    "count_every_hours": "Public count updated",
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
        until = service.counter.period_start(campaign)  # a count in steps: as readers see it
        stats = await service.store.stats(campaign.slug, since, until)
        if until:
            signatures = await service.counter.public(campaign) - campaign.counter_offset
        rows.append((campaign, signatures, stats.last_24h))
    recent = await service.store.audit_log(10, DANGEROUS_ACTIONS)
    return page(request, "admin/home.html", rows=rows, recent=recent)


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
