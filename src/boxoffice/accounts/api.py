"""``POST /v1/auth/session``: log in with e-mail and password, get a JWT.

Attempts are rate-limited per e-mail address and per client address across every ``serve`` process
(:mod:`boxoffice.api.ratelimit`); an unknown address costs as much time as a wrong password, so the
answer does not tell which addresses have accounts. Logging in again is harmless, so an
``Idempotency-Key`` is accepted but nothing is stored: a stored answer would be a live credential.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.accounts.auth import Principal, issue_user_token
from boxoffice.accounts.models import User
from boxoffice.accounts.schemas import LoginRequest, PasswordChange, SessionToken
from boxoffice.accounts.service import change_password, hash_password, revoke_session, verify_password
from boxoffice.api.context import Reader
from boxoffice.api.ratelimit import count_login_attempt, login_succeeded
from boxoffice.db import unit_of_work
from boxoffice.errors import NotAuthenticated, PermissionDenied
from boxoffice.kit.http import http_error
from boxoffice.kit.jsonapi import MEDIA_TYPE

router = APIRouter(tags=["auth"])

# The answer is plain JSON, but its errors are JSON:API error documents like everywhere else.
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": http_error(status, "")["title"],
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ErrorDocument"}}},
    }
    for status in (400, 401, 403, 415, 422, 429)
}


@cache
def _decoy_hash() -> str:
    """A hash to check unknown addresses against, so they take as long as known ones."""
    return hash_password("no account has this password")


@router.post(
    "/v1/auth/session",
    response_model=SessionToken,
    response_class=JSONResponse,
    responses=_ERRORS,
    summary="Log in",
    description='Answers `{"access_token": "<jwt>"}` (valid 12 hours). Too many attempts for one '
    "e-mail address or from one client within a minute: 429 with Retry-After.",
)
def login(payload: LoginRequest, request: Request) -> Response:
    email = payload.email.strip().lower()
    client_ip = request.client.host if request.client else None
    with unit_of_work() as session:
        # Committed before the password is checked, so a wrong password counts too.
        count_login_attempt(session, email=email, client_ip=client_ip)
        user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        user_id = user.id if user is not None and user.is_active else None
        password_hash = user.password_hash if user_id is not None and user is not None else _decoy_hash()
    # The hash check is slow on purpose; no transaction is held open during it.
    if not verify_password(password_hash, payload.password) or user_id is None:
        raise NotAuthenticated("Wrong e-mail address or password.", code="invalid-credentials")
    with unit_of_work() as session:
        active = session.get(User, user_id)
        if active is None:
            raise NotAuthenticated("Wrong e-mail address or password.", code="invalid-credentials")
        login_succeeded(session, email=email, client_ip=client_ip)
        token = issue_user_token(session, active)
    return JSONResponse({"access_token": token})


def _user_session(principal: Principal) -> str:
    """The session of a user's token; API and buyer tokens have none to end (403)."""
    if principal.kind != "user" or principal.session_id is None:
        raise PermissionDenied("Only a user's login can be ended or change its password here.")
    return principal.session_id


@router.delete(
    "/v1/auth/session",
    status_code=204,
    response_class=Response,
    responses=_ERRORS,
    summary="Log out",
    description="Ends the login the token belongs to: the token (and the panel's cookie of it) stops working.",
)
def logout(call: Reader) -> Response:
    with call.unit() as tx:
        revoke_session(tx.session, _user_session(tx.principal))
    return Response(status_code=204)


@router.post(
    "/v1/auth/password",
    response_model=SessionToken,
    response_class=JSONResponse,
    responses=_ERRORS,
    summary="Change your password",
    description="Every login of the user ends, this one too; the answer is a token of a new login, "
    '`{"access_token": "<jwt>"}`. A wrong current password: 422; each try counts as a login attempt (429).',
)
def password(payload: PasswordChange, call: Reader) -> Response:
    with call.unit() as tx:
        _user_session(tx.principal)
        user = tx.session.get(User, tx.principal.user_id)
        if user is None:
            raise NotAuthenticated("This user no longer exists.", code="token-invalid")
        user_id = user.id
        # Each try of the current password is a login attempt: a stolen token cannot guess it quickly.
        count_login_attempt(tx.session, email=user.email, client_ip=call.client_ip)
    with call.unit() as tx:
        change_password(tx.session, user_id, current=payload.current_password, new=payload.new_password)
        token = issue_user_token(tx.session, tx.session.get(User, user_id) or user)
    return JSONResponse({"access_token": token})
