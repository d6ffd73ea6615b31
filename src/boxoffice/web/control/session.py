"""Logging organizers in: a session cookie (HttpOnly, SameSite=Lax) holding a user JWT.

The JWT is the one ``POST /v1/auth/session`` issues (:func:`boxoffice.accounts.auth.issue_user_token`),
signed with the installation's secret key and checked on every request by
:func:`boxoffice.accounts.auth.resolve`, so any ``serve`` process accepts it and it expires with the token.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.accounts.auth import USER_TOKEN_LIFETIME, Principal, issue_user_token, resolve
from boxoffice.accounts.models import User
from boxoffice.accounts.service import hash_password, revoke_session, verify_password
from boxoffice.api.ratelimit import count_login_attempt, login_succeeded
from boxoffice.db import unit_of_work
from boxoffice.errors import NotAuthenticated
from boxoffice.web.http import LoginRequired

SESSION_COOKIE = "bo_session"
COOKIE_PATH = "/control"
_REFUSED = "The e-mail address or the password is not right."


def log_in(email: str, password: str, client_ip: str | None) -> str:
    """The session token of the user with these credentials; 401 (saying nothing more) otherwise.

    Every attempt counts against the API's login rate limit (429 when exceeded) and is committed
    before the password is checked, so wrong passwords count too; the slow hash check runs outside
    any transaction, and against a decoy hash for an unknown e-mail so timing tells nothing.
    """
    email = email.strip().lower()
    with unit_of_work() as session:
        count_login_attempt(session, email=email, client_ip=client_ip)
        user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        user_id = user.id if user is not None and user.is_active else None
        password_hash = user.password_hash if user is not None and user_id is not None else _decoy()
    if not verify_password(password_hash, password) or user_id is None:
        raise NotAuthenticated(_REFUSED, pointer="password", code="login-failed")
    with unit_of_work() as session:
        active = session.get(User, user_id)
        if active is None:
            raise NotAuthenticated(_REFUSED, pointer="password", code="login-failed")
        login_succeeded(session, email=email, client_ip=client_ip)
        return issue_user_token(session, active)


@lru_cache(maxsize=1)
def _decoy() -> str:
    return hash_password(secrets.token_urlsafe(16))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(USER_TOKEN_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def log_out(request: Request) -> None:
    """End the login of the browser's session cookie, so the cookie (or its token) opens nothing more."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return
    with unit_of_work() as session:
        try:
            principal = resolve(session, token)
        except NotAuthenticated:
            return  # already ended or expired
        if principal.session_id is not None:
            revoke_session(session, principal.session_id)


def current_user(request: Request, session: Session) -> Principal:
    """The logged-in user, or :class:`LoginRequired` (the page redirects to the login form)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired("Please log in.")
    try:
        principal = resolve(session, token)
    except NotAuthenticated as exc:
        raise LoginRequired(exc.detail) from exc
    if principal.kind != "user":
        raise LoginRequired("Please log in.")
    return principal
