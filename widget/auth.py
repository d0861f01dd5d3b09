"""Operators' sessions: kept in the database, so that logging out, removing an operator or a
new password ends them at once on every instance; the cookie that names one (a random token
whose hash is the stored id); CSRF tokens; and the fresh proof that dangerous acts ask for."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from widget.store import AdminSession, Audit, Store, StoreError
from widget.urls import ADMIN, ADMIN_LOGIN, URLs

SESSION_COOKIE = "pw_admin"
LOGIN_COOKIE = "pw_login"  # names the login form, for its CSRF token, before any session
SCOPE_KEY = "pw.admin"
TOUCH_SECONDS = 60  # last_seen is written at most once a minute per session
CONFIRM_FIELD = "confirm_password"


@dataclass(frozen=True)
class Current:
    """The session of this request."""

    session: AdminSession
    csrf: str
    fresh: bool  # the password was given within the confirmation window
    must_enrol: bool = False  # passkeys are required and this operator has none yet


class LoginRequired(Exception):
    """Raised by the guards; answered with a redirect (pages) or a 401 (data)."""


class EnrolRequired(Exception):
    """Passkeys are required and this operator has none: answered with a redirect to the
    passkeys page, the only one open to them until they enrol."""


class ConfirmRequired(Exception):
    """A dangerous act without a recent proof: answered with a page that asks for the
    password and sends the same form again."""

    def __init__(self, form: dict[str, str], error: str = "") -> None:
        self.form = form
        self.error = error


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keyed(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _age(stamp: str, now: datetime) -> float:
    then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return (now - then).total_seconds()


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return None
            if name in jar:
                return jar[name].value
    return None


def describe_client(user_agent: str) -> str:
    """'Firefox on Linux': enough for an operator to recognise their own devices in the
    list of sessions, and nothing that locates them."""
    browsers = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"), ("Safari/", "Safari"))  # fmt: skip
    systems = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
               ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
               ("Linux", "Linux"))  # fmt: skip
    browser = next((name for mark, name in browsers if mark in user_agent), "a browser")
    system = next((name for mark, name in systems if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser


class AdminSessions:
    """For requests under /admin only: finds the session the cookie names, ends it once it
    has been idle or alive too long, and leaves it in the scope for the guards. Readers'
    paths never pay for it."""

    def __init__(
        self, app: ASGIApp, /, store: Store, secret: str, idle: int, lifetime: int,
        confirm: int, require_passkey: bool = False,
    ) -> None:  # fmt: skip
        self.app = app
        self.store = store
        self.secret = secret
        self.idle, self.lifetime, self.confirm = idle, lifetime, confirm
        self.require_passkey = require_passkey

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == ADMIN or path.startswith(ADMIN + "/")):
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, SESSION_COOKIE)
        current = None
        if token:
            try:
                current = await self.find(token)
            except StoreError:
                await Response("The database is not answering. Try again in a moment.", 503,
                               headers={"Retry-After": "5"})(scope, receive, send)  # fmt: skip
                return
        scope[SCOPE_KEY] = current
        if token and current is None:
            send = _forgetting_cookie(send)
        await self.app(scope, receive, send)

    async def find(self, token: str) -> Current | None:
        sid = session_id(token)
        session = await self.store.session(sid)
        if session is None:
            return None
        now = datetime.now(UTC)
        idle, alive = _age(session.last_seen, now), _age(session.created_at, now)
        if idle > self.idle or alive > self.lifetime:
            await self.store.end_sessions(session_id=sid)
            return None
        if _age(session.last_seen, now) >= TOUCH_SECONDS:
            await self.store.touch_session(sid)
        fresh = _age(session.verified_at, now) <= self.confirm
        must_enrol = self.require_passkey and not await self.store.passkeys(session.operator)
        return Current(session, _keyed(self.secret, "csrf", token), fresh, must_enrol)


def _forgetting_cookie(send: Send) -> Send:
    """Tell the browser to drop a cookie whose session has ended."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if not any(v.startswith(SESSION_COOKIE + "=") for v in headers.getlist("set-cookie")):
                headers.append("set-cookie", _expired(SESSION_COOKIE))
        await send(message)

    return sending


def _expired(name: str) -> str:
    return f"{name}=; Max-Age=0; Path={ADMIN}; HttpOnly; SameSite=strict"


def current(request: Request) -> Current | None:
    found: Current | None = request.scope.get(SCOPE_KEY)
    return found


def operator(request: Request) -> str | None:
    found = current(request)
    return found.session.operator if found else None


def require_operator(request: Request, enrolling: bool = False) -> str:
    """The logged-in operator, or a redirect to the login page (or, where passkeys are
    required and they have none, to enrolment, unless `enrolling`)."""
    found = current(request)
    if found is None:
        raise LoginRequired
    if found.must_enrol and not enrolling:
        raise EnrolRequired
    return found.session.operator


def require_operator_for_data(request: Request) -> str:
    found = current(request)
    if found is None or found.must_enrol:
        raise HTTPException(401, "Log in to the admin first.")
    return found.session.operator


# CSRF -----------------------------------------------------------------------------------------


def login_nonce(request: Request) -> tuple[str, bool]:
    """The login form's own cookie value, and whether it is new (to be set)."""
    found = request.cookies.get(LOGIN_COOKIE, "")
    if re.fullmatch(r"[A-Za-z0-9_-]{32,64}", found):
        return found, False
    return secrets.token_urlsafe(32), True


def csrf_token(request: Request, secret: str) -> str:
    """The token every admin form carries: tied to the session, or before logging in, to the
    login form's cookie."""
    found = current(request)
    if found is not None:
        return found.csrf
    nonce = request.scope.get("pw.login_nonce") or login_nonce(request)[0]
    return _keyed(secret, "login", nonce)


def check_csrf(request: Request, secret: str, sent: str | None) -> None:
    found = current(request)
    if found is not None:
        expected = found.csrf
    else:
        nonce = request.cookies.get(LOGIN_COOKIE)
        expected = _keyed(secret, "login", nonce) if nonce else ""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "This form has expired or did not come from the admin.")


def set_login_cookie(response: Response, nonce: str, https: bool) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, path=ADMIN_LOGIN, httponly=True,
                        samesite="strict", secure=https)  # fmt: skip


# Logging in and out ---------------------------------------------------------------------------


async def log_in(
    store: Store, request: Request, response: Response, email: str, lifetime: int
) -> None:
    """Start a session: a new token (a new id for every login), stored only as its hash."""
    token = secrets.token_urlsafe(32)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    client = describe_client(request.headers.get("user-agent", ""))
    session = AdminSession(session_id(token), email, client, stamp, stamp, stamp)
    await store.start_session(session, Audit(email, "login", None, client))
    https = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, max_age=lifetime, path=ADMIN, httponly=True,
                        samesite="strict", secure=https)  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path=ADMIN_LOGIN)


async def log_out(store: Store, request: Request, response: Response) -> None:
    found = current(request)
    if found is not None:
        who = found.session.operator
        await store.end_sessions(
            session_id=found.session.id, audit=Audit(who, "logout", None, found.session.client)
        )
    response.delete_cookie(SESSION_COOKIE, path=ADMIN)


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(URLs().login(request.url.path), 303)


def replayed_fields(form: dict[str, str]) -> list[tuple[str, str]]:
    """The fields of a form to send again after the password is confirmed (not the password
    itself, if a wrong one was given)."""
    return [(k, v) for k, v in form.items() if k != CONFIRM_FIELD]
