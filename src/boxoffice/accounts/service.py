"""Use cases of accounts: users, team membership, API tokens, the signing secret."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.accounts.models import ROLES, ApiToken, Membership, SystemSetting, User
from boxoffice.catalogue.models import Organizer
from boxoffice.catalogue.service import get_or_create_organizer, organizer_by_slug
from boxoffice.config import get_settings
from boxoffice.errors import Conflict, InvalidValue

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
    if len(password) < 8:
        raise InvalidValue("A password has at least 8 characters.", pointer="/data/attributes/password")
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
