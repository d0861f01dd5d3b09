"""Admin sessions: who is logged in, CSRF tokens, and the limits on failed logins."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from widget.urls import URLs

SESSION_COOKIE = "pw_admin"
SESSION_MAX_AGE = 8 * 3600
ACCOUNT_LIMIT = parse("5/15 minutes")
CLIENT_LIMIT = parse("20/15 minutes")


class AdminSessions:
    """Starlette's session middleware, only for requests under /admin: the reader's paths
    (the counter above all) neither pay for it nor ever see a session cookie."""

    def __init__(self, app: ASGIApp, /, prefix: str, **options: Any) -> None:
        self.app = app
        self.prefix = prefix
        self.with_sessions = SessionMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.with_sessions(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class LoginRequired(Exception):
    """Raised by the guards; answered with a redirect (pages) or a 401 (data)."""


def operator(request: Request) -> str | None:
    return request.session.get("operator")


def require_operator(request: Request) -> str:
    """The logged-in operator, or a redirect to the login page."""
    who = operator(request)
    if who is None:
        raise LoginRequired
    return who


def require_operator_for_data(request: Request) -> str:
    who = operator(request)
    if who is None:
        raise HTTPException(401, "Log in to the admin first.")
    return who


def log_in(request: Request, email: str) -> None:
    request.session.clear()  # a new session id for a new login
    request.session.update(operator=email, csrf=secrets.token_urlsafe(32), since=int(time.time()))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "This form has expired or did not come from the admin.")


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(URLs().login(request.url.path), 303)


class LoginLimiter:
    """Failed logins per account and per client, kept in memory. Client keys are keyed
    hashes of the address with a salt that exists only in this process."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._salt = secrets.token_bytes(32)

    def client_key(self, request: Request) -> str:
        address = request.client.host if request.client else ""
        return hmac.new(self._salt, address.encode(), hashlib.sha256).hexdigest()[:32]

    def allowed(self, account: str, client: str) -> bool:
        return self._limiter.test(ACCOUNT_LIMIT, "account", account) and self._limiter.test(
            CLIENT_LIMIT, "client", client
        )

    def failed(self, account: str, client: str) -> None:
        self._limiter.hit(ACCOUNT_LIMIT, "account", account)
        self._limiter.hit(CLIENT_LIMIT, "client", client)
