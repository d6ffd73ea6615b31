"""Who is calling: users (JWT from ``POST /v1/auth/session``), organizer API tokens, buyer order tokens.

Every request resolves to one :class:`Principal`; permission checks ask it questions and raise the
domain errors that become 401/403. The signing key is shared by all processes through the database
(see :func:`boxoffice.accounts.service.secret_key`), so any ``serve`` process accepts any token.
A user token names its session (``sid``), a row in ``user_sessions``: the token is honoured only
while that session is there and not revoked.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import jwt
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from boxoffice.accounts.models import ApiToken, Membership, User, UserSession
from boxoffice.accounts.service import TOKEN_PREFIX, hash_token, secret_key
from boxoffice.errors import NotAuthenticated, PermissionDenied
from boxoffice.kit.clock import now

ALGORITHM = "HS256"
USER_TOKEN_LIFETIME = timedelta(hours=12)
ORDER_TOKEN_LIFETIME = timedelta(days=90)

PrincipalKind = Literal["anonymous", "user", "token", "buyer"]


@dataclass(frozen=True)
class Principal:
    """The caller of one request and what it may touch."""

    kind: PrincipalKind
    label: str
    user_id: int | None = None
    # organizer id -> role ("admin" or "staff")
    roles: Mapping[int, str] = field(default_factory=dict)
    # a buyer token grants exactly one order
    order_id: int | None = None
    # the login a user token stands for (what logging out ends)
    session_id: str | None = None

    @property
    def actor(self) -> str:
        """How this caller appears in the audit log."""
        return self.label

    @property
    def is_organizer(self) -> bool:
        return self.kind in ("user", "token")

    def role_in(self, organizer_id: int) -> str | None:
        return self.roles.get(organizer_id)

    def require_authenticated(self) -> None:
        if self.kind == "anonymous":
            raise NotAuthenticated("Send 'Authorization: Bearer <token>' (or 'JWT <token>').")

    def require_organizer(self, organizer_id: int, *, admin: bool = False) -> None:
        """Allow team members of ``organizer_id`` (only admins when ``admin``); 401/403 otherwise."""
        self.require_authenticated()
        role = self.role_in(organizer_id)
        if role is None:
            raise PermissionDenied("This belongs to another organizer.")
        if admin and role != "admin":
            raise PermissionDenied("Only the organizer's admins may do this.")

    def can_access_order(self, order_id: int, organizer_id: int) -> bool:
        return self.order_id == order_id or self.role_in(organizer_id) is not None

    def require_order(self, order_id: int, organizer_id: int) -> None:
        """Allow the order's buyer and the organizer's team."""
        self.require_authenticated()
        if not self.can_access_order(order_id, organizer_id):
            raise PermissionDenied("This token does not grant this order.")


ANONYMOUS = Principal(kind="anonymous", label="anonymous")

# Actors the audit log names when no signed-in principal made a change.
SYSTEM = "system"
BUYER = "buyer"


def issue_user_token(session: Session, user: User) -> str:
    """A new session of ``user`` and its token (valid :data:`USER_TOKEN_LIFETIME`, until revoked)."""
    issued = now()
    login = UserSession(
        id=secrets.token_urlsafe(32), user_id=user.id, created_at=issued, expires_at=issued + USER_TOKEN_LIFETIME
    )
    session.add(login)
    session.flush()
    claims = {"sub": str(user.id), "sid": login.id, "typ": "user", "iat": issued, "exp": login.expires_at}
    return jwt.encode(claims, secret_key(session), algorithm=ALGORITHM)


def issue_order_token(session: Session, order_id: int, order_code: str) -> str:
    """A buyer token that grants one order and nothing else."""
    issued = now()
    claims = {
        "sub": f"order:{order_id}",
        "typ": "order",
        "oid": order_id,
        "code": order_code,
        "iat": issued,
        "exp": issued + ORDER_TOKEN_LIFETIME,
    }
    return jwt.encode(claims, secret_key(session), algorithm=ALGORITHM)


def parse_authorization(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer|JWT <token>`` header; 401 for any other scheme."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ("bearer", "jwt") or not token.strip():
        raise NotAuthenticated("Use 'Authorization: Bearer <token>' or 'Authorization: JWT <token>'.")
    return token.strip()


def _memberships(session: Session, user_id: int) -> dict[int, str]:
    rows = session.execute(select(Membership.organizer_id, Membership.role).where(Membership.user_id == user_id))
    return {org: role for org, role in rows}


# Built once: every request with an organizer API token (a door scanner's, say) runs it.
_TOKENS = ApiToken.__table__
_API_TOKEN = select(_TOKENS.c.organizer_id, _TOKENS.c.name, _TOKENS.c.role).where(
    _TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None)
)


def resolve(session: Session, token: str | None) -> Principal:
    """The principal a token stands for; raises 401 for a token that is invalid or expired."""
    if token is None:
        return ANONYMOUS
    if token.startswith(TOKEN_PREFIX):
        found = session.connection().execute(_API_TOKEN, {"token_hash": hash_token(token)}).first()
        if found is None:
            raise NotAuthenticated("Unknown or revoked API token.")
        organizer_id, name, role = found
        return Principal(kind="token", label=f"token:{name}", roles={organizer_id: role})
    try:
        claims = jwt.decode(token, secret_key(session), algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("The token has expired; log in again.", code="token-expired") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("The token is not valid.", code="token-invalid") from exc
    if claims.get("typ") == "order":
        return Principal(kind="buyer", label=f"buyer:{claims.get('code', '')}", order_id=int(claims["oid"]))
    if claims.get("typ") == "user":
        user = session.get(User, int(claims["sub"]))
        if user is None or not user.is_active:
            raise NotAuthenticated("This user no longer exists.", code="token-invalid")
        login = session.get(UserSession, str(claims.get("sid", "")))
        # Expiry is the token's own ``exp``; an expired session's row is pruned later.
        if login is None or login.user_id != user.id or login.revoked_at is not None:
            raise NotAuthenticated("This session has ended; log in again.", code="session-ended")
        return Principal(
            kind="user",
            label=f"user:{user.email}",
            user_id=user.id,
            roles=_memberships(session, user.id),
            session_id=login.id,
        )
    raise NotAuthenticated("The token is not valid.", code="token-invalid")
