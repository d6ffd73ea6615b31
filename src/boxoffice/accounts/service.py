"""Use cases of accounts: users, team membership, API tokens, the signing secret."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from boxoffice.accounts.models import ROLES, ApiToken, Membership, SystemSetting, User, UserSession
from boxoffice.catalogue.models import Organizer
from boxoffice.catalogue.service import get_or_create_organizer, organizer_by_slug
from boxoffice.config import get_settings
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.clock import now

_hasher = PasswordHasher()
TOKEN_PREFIX = "bxo_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, *, email: str, password: str, organizer_slug: str, role: str = "admin"
) -> tuple[User, Organizer, bool]:
    """Create a team member (and the organizer if new). Returns the user, the organizer, and whether
    the user was new; an existing user with that e-mail joins the team with the given role."""
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidValue(f"'{email}' is not an e-mail address.", pointer="/data/attributes/email")
    if role not in ROLES:
        raise InvalidValue(f"The role is one of {', '.join(ROLES)}.", pointer="/data/attributes/role")
    _check_password(password, "/data/attributes/password")
    organizer = get_or_create_organizer(session, organizer_slug)
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    created = user is None
    if user is None:
        user = User(email=email, password_hash=hash_password(password))
        session.add(user)
        session.flush()
    membership = session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organizer_id == organizer.id)
    ).scalar_one_or_none()
    if membership is None:
        session.add(Membership(user_id=user.id, organizer_id=organizer.id, role=role))
    elif membership.role != role:
        membership.role = role
    session.flush()
    return user, organizer, created


def _check_password(password: str, pointer: str) -> None:
    if len(password) < 8:
        raise InvalidValue("A password has at least 8 characters.", pointer=pointer)


def revoke_session(session: Session, session_id: str) -> None:
    """End one login (logging out): its token and cookie stop working at once."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )


def revoke_sessions_of(session: Session, user_id: int) -> int:
    """End every login of a user; returns how many were still open."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def change_password(session: Session, user_id: int, *, current: str, new: str) -> None:
    """Set a new password after checking the current one (422 and no change when it is wrong);
    every login of the user ends."""
    _check_password(new, "/new_password")
    user = session.get(User, user_id, with_for_update=True)
    if user is None or not verify_password(user.password_hash, current):
        raise InvalidValue("The current password is not right.", pointer="/current_password", code="wrong-password")
    user.password_hash = hash_password(new)
    revoke_sessions_of(session, user_id)


def remove_member(session: Session, *, email: str, organizer_slug: str) -> User:
    """Take a user off an organizer's team; every login of the user ends (logging in again gives
    the roles that are left)."""
    user = session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    organizer = session.execute(select(Organizer).where(Organizer.slug == organizer_slug)).scalar_one_or_none()
    removed = 0
    if user is not None and organizer is not None:
        removed = session.execute(
            delete(Membership)
            .where(Membership.user_id == user.id, Membership.organizer_id == organizer.id)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    if user is None or not removed:
        raise NotFound(f"'{email}' is not on the team of organizer '{organizer_slug}'.")
    revoke_sessions_of(session, user.id)
    return user


def prune_sessions(session: Session) -> int:
    """Delete sessions that expired (their tokens are refused anyway); returns how many."""
    result = session.execute(
        delete(UserSession).where(UserSession.expires_at <= now()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, organizer_slug: str, name: str, role: str = "admin") -> str:
    """Create an API token of an existing organizer and return it; only its hash is kept."""
    if role not in ROLES:
        raise InvalidValue(f"The role is one of {', '.join(ROLES)}.", pointer="/data/attributes/role")
    # Never created here: a mistyped slug must not quietly become a new organizer.
    organizer = organizer_by_slug(session, organizer_slug)
    if session.execute(
        select(ApiToken.id).where(
            ApiToken.organizer_id == organizer.id, ApiToken.name == name, ApiToken.revoked_at.is_(None)
        )
    ).first():
        raise Conflict(f"Organizer '{organizer_slug}' already has a token named '{name}'.", code="token-exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(organizer_id=organizer.id, name=name, token_hash=hash_token(token), role=role))
    session.flush()
    return token


_secret_cache: dict[str, str] = {}


def secret_key(session: Session) -> str:
    """The signing key: ``BOXOFFICE_SECRET_KEY``, or one generated on first use and kept in the
    database so every serve and worker process on every machine signs alike."""
    configured = get_settings().secret_key
    if configured:
        return configured
    database = str(session.get_bind().engine.url)
    cached = _secret_cache.get(database)
    if cached is not None:
        return cached
    row = session.get(SystemSetting, "secret_key")
    if row is None:
        row = SystemSetting(key="secret_key", value=secrets.token_urlsafe(48))
        session.add(row)
        session.flush()
    # Once stored the key never changes, so each process reads it once per database.
    _secret_cache[database] = row.value
    return row.value
