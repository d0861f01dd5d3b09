"""Logging in and out of the admin (the password, then the passkey if the operator has one),
and the operators' sessions: listed, and ended by any operator. Every handler guards first."""

from __future__ import annotations

import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from widget import auth, passkeys, security, urls
from widget.ratelimit import client_address
from widget.service import service_of
from widget.store import Audit
from widget.urls import URLs
from widget.views.admin import WRONG_PASSWORD, _checked_password, form_of, guarded_post, page

PENDING_COOKIE = "pw_pending"  # a right password, waiting for the passkey
LOGIN_FAILED = "That email and password do not match an operator account."


# Logging in and out ---------------------------------------------------------------------------


def _next_path(request: Request) -> str:
    next_path = request.query_params.get("next", urls.ADMIN)
    if not next_path.startswith(urls.ADMIN) or "//" in next_path:
        return urls.ADMIN  # never a redirect to another site
    return next_path


async def login_form(request: Request) -> Response:
    nonce, new = auth.login_nonce(request)
    request.scope["pw.login_nonce"] = nonce
    response = page(request, "admin/login.html", next=_next_path(request), error="", email="")
    if new:
        auth.set_login_cookie(response, nonce, request.url.scheme == "https")
    return response


async def login(request: Request) -> Response:
    next_path = _next_path(request)
    service = service_of(request)
    if not security.origin_allowed(request, service.settings.public_url):
        raise HTTPException(403, "Form posts from other sites are refused.")
    form = await form_of(request)
    auth.check_csrf(request, service.settings.secret, form.get("csrf"))
    email = form.get("email", "").strip().lower()
    refused = await _checked_password(request, email, form.get("password", ""))
    if refused == WRONG_PASSWORD:
        return page(
            request, "admin/login.html", 401, next=next_path, email=email, error=LOGIN_FAILED
        )
    if refused:
        wait = await service.logins.wait(email, client_address(request))
        return page(
            request, "admin/login.html", 429, headers={"Retry-After": str(max(wait, 1))},
            next=next_path, email=email, error=refused,
        )  # fmt: skip
    keys = await service.store.passkeys(email)
    if keys:  # the password was right; now the passkey
        return passkey_step(request, email, next_path)
    return await logged_in(request, email, next_path)


async def logged_in(request: Request, email: str, next_path: str) -> Response:
    """Start the operator's session and send them on."""
    service = service_of(request)
    response = RedirectResponse(next_path, 303)
    hours = service.settings.admin_session_hours
    await auth.log_in(service.store, request, response, email, hours * 3600)
    response.delete_cookie(PENDING_COOKIE, path=urls.ADMIN_LOGIN)
    return response


def passkey_step(request: Request, email: str, next_path: str) -> Response:
    """After the right password of an operator with a passkey: the passkey's page, with the
    ceremony's challenge in a cookie signed for this operator (five minutes)."""
    service = service_of(request)
    challenge = secrets.token_bytes(32)
    pending = service.ceremonies.seal("login", email, challenge)
    response = RedirectResponse(URLs().login_passkey(next_path), 303)
    response.set_cookie(PENDING_COOKIE, pending, max_age=passkeys.CEREMONY_SECONDS,
                        path=urls.ADMIN_LOGIN, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
    return response


async def logout(request: Request) -> Response:
    await guarded_post(request, enrolling=True)
    response = RedirectResponse(urls.ADMIN_LOGIN, 303)
    await auth.log_out(service_of(request).store, request, response)
    return response


# Sessions -------------------------------------------------------------------------------------


async def sessions(request: Request) -> Response:
    auth.require_operator(request)
    found = auth.current(request)
    rows = await service_of(request).store.sessions()
    return page(
        request, "admin/sessions.html", sessions=rows, mine=found.session.id if found else "",
        ended=request.query_params.get("ended"),
    )  # fmt: skip


async def session_end(request: Request) -> Response:
    """End one session (any operator's), or every session of one operator."""
    who, form = await guarded_post(request)
    store = service_of(request).store
    if form.get("operator"):
        audit = Audit(who, "session.end", None, "{n} session(s) of " + form["operator"])
        n = await store.end_sessions(operator=form["operator"], audit=audit)
    else:
        audit = Audit(who, "session.end", None, "{n} session(s)")
        n = await store.end_sessions(session_id=form.get("session", ""), audit=audit)
    return RedirectResponse(f"{urls.ADMIN_SESSIONS}?ended={n}", 303)
