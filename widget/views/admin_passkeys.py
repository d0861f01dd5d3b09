"""Operators' passkeys: the second step of logging in (a passkey, or a one-time recovery
code), and enrolling, listing and removing passkeys. Every handler guards first; enrolling,
removing and new recovery codes need a fresh password, as every dangerous act does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from widget import auth, passkeys, security, urls
from widget.passkeys import PasskeyError, RelyingParty
from widget.ratelimit import client_address
from widget.service import service_of
from widget.store import Audit
from widget.views.admin import confirmed, form_of, guarded_post, page
from widget.views.admin_login import PENDING_COOKIE, _next_path, logged_in

ENROL_COOKIE = "pw_enrol"  # the enrolment ceremony's challenge, signed for the operator


def relying_party(request: Request) -> RelyingParty:
    return RelyingParty.of(security.own_origin(request, service_of(request).settings.public_url))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Logging in: the second step ------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    service = service_of(request)
    try:
        email, challenge = service.ceremonies.opened("login", request.cookies.get(PENDING_COOKIE))
    except PasskeyError:
        return RedirectResponse(urls.ADMIN_LOGIN, 303)
    return await _login_page(request, email, challenge, "")


async def _login_page(
    request: Request, email: str, challenge: bytes, error: str, status: int = 200
) -> Response:
    service = service_of(request)
    keys = await service.store.passkeys(email)
    options, _ = service.ceremonies.authentication(relying_party(request), keys, challenge)
    return page(
        request, "admin/passkey_login.html", status, options=options, error=error,
        next=_next_path(request), codes_left=await service.store.recovery_codes_left(email),
    )  # fmt: skip


async def login(request: Request) -> Response:
    service = service_of(request)
    if not security.origin_allowed(request, service.settings.public_url):
        raise HTTPException(403, "Form posts from other sites are refused.")
    form = await form_of(request)
    auth.check_csrf(request, service.settings.secret, form.get("csrf"))
    try:
        email, challenge = service.ceremonies.opened("login", request.cookies.get(PENDING_COOKIE))
    except PasskeyError:
        return RedirectResponse(urls.ADMIN_LOGIN, 303)
    address = client_address(request)
    wait = await service.logins.wait(email, address)
    if wait:
        error = f"Too many failed attempts from your network. Try again in {wait} seconds."
        return await _login_page(request, email, challenge, error, 429)
    await asyncio.sleep(await service.logins.delay(email))
    try:
        await _second_factor(request, email, challenge, form)
    except PasskeyError as exc:
        await service.logins.failed(email, address)
        return await _login_page(request, email, challenge, str(exc), 401)
    return await logged_in(request, email, _next_path(request))


async def _second_factor(
    request: Request, email: str, challenge: bytes, form: dict[str, str]
) -> None:
    """A recovery code, spent; or the passkey's answer, checked. PasskeyError if neither."""
    store = service_of(request).store
    if form.get("recovery_code", "").strip():
        audit = Audit(email, "operator.recovery-code", None, "used one to log in")
        if not await store.use_recovery_code(
            email, passkeys.code_hash(form["recovery_code"]), audit
        ):
            raise PasskeyError("That recovery code is not valid, or it was used already.")
        return
    keys = await store.passkeys(email)
    ceremonies = service_of(request).ceremonies
    key, count = ceremonies.authenticated(
        relying_party(request), challenge, form.get("credential", ""), keys
    )
    await store.passkey_used(key.credential_id, count)


# Enrolling and managing ----------------------------------------------------------------------


async def listing(request: Request) -> Response:
    who = auth.require_operator(request, enrolling=True)
    return await _passkeys_page(request, who)


async def _passkeys_page(
    request: Request, who: str, error: str = "", codes: list[str] | None = None,
    status: int = 200, notice: str = "",
) -> Response:  # fmt: skip
    service = service_of(request)
    keys = await service.store.passkeys(who)
    options, challenge = service.ceremonies.registration(relying_party(request), who, keys)
    response = page(
        request, "admin/passkeys.html", status, keys=keys, options=options, error=error,
        codes=codes or [], codes_left=await service.store.recovery_codes_left(who),
        required=service.settings.admin_require_passkey, notice=notice,
        must_enrol=bool(auth.current(request) and auth.current(request).must_enrol),  # type: ignore[union-attr]
    )  # fmt: skip
    response.set_cookie(ENROL_COOKIE, service.ceremonies.seal("enrol", who, challenge),
                        max_age=passkeys.CEREMONY_SECONDS, path=urls.ADMIN_PASSKEYS,
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")  # fmt: skip
    return response


async def add(request: Request) -> Response:
    who, form = await guarded_post(request, enrolling=True)
    await confirmed(request, who, form)
    service = service_of(request)
    try:
        operator, challenge = service.ceremonies.opened("enrol", request.cookies.get(ENROL_COOKIE))
        if operator != who:
            raise PasskeyError("This step has expired. Start again.")
        key = service.ceremonies.registered(
            relying_party(request), who, challenge, form.get("credential", ""),
            form.get("name", ""), _stamp(),
        )  # fmt: skip
    except PasskeyError as exc:
        return await _passkeys_page(request, who, str(exc), status=422)
    first = not await service.store.passkeys(who)
    codes = passkeys.new_codes() if first else None
    hashes = [passkeys.code_hash(c) for c in codes] if codes else None
    await service.store.add_passkey(key, hashes, Audit(who, "operator.passkey-add", None, key.name))
    return await _passkeys_page(
        request, who, codes=codes, notice=f"Added the passkey “{key.name}”."
    )


async def remove(request: Request) -> Response:
    who, form = await guarded_post(request, enrolling=True)
    await confirmed(request, who, form)
    store = service_of(request).store
    audit = Audit(who, "operator.passkey-remove", None, form.get("name", ""))
    if not await store.remove_passkey(who, form.get("credential_id", ""), audit):
        raise HTTPException(404, "No such passkey.")
    return RedirectResponse(urls.ADMIN_PASSKEYS, 303)


async def new_codes(request: Request) -> Response:
    who, form = await guarded_post(request, enrolling=True)
    await confirmed(request, who, form)
    store = service_of(request).store
    if not await store.passkeys(who):
        return await _passkeys_page(request, who, "Add a passkey first.", status=422)
    codes = passkeys.new_codes()
    audit = Audit(who, "operator.recovery-codes", None, "new codes; the old ones no longer work")
    await store.replace_recovery_codes(who, [passkeys.code_hash(c) for c in codes], audit)
    return await _passkeys_page(request, who, codes=codes, notice="New recovery codes.")
