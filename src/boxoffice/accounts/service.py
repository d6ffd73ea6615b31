"""Use cases of accounts: users, team membership, API tokens, the signing secret."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from boxoffice.accounts.models import ROLES, ApiToken, Membership, SystemSetting, User, UserSession
from boxoffice.activity import service as activity
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
    email = _member_email(email, role)
    _check_password(password, "/data/attributes/password")
    organizer = get_or_create_organizer(session, organizer_slug)
    user, created = _user(session, email, password)
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


def _member_email(email: str, role: str) -> str:
    """The e-mail address, normalized, of a would-be member with ``role`` (both checked)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidValue(f"'{email}' is not an e-mail address.", pointer="/data/attributes/email")
    if role not in ROLES:
        raise InvalidValue(f"The role is one of {', '.join(ROLES)}.", pointer="/data/attributes/role")
    return email


def _user(session: Session, email: str, password: str | None) -> tuple[User, bool]:
    """The user with ``email``, or a new one with ``password`` (checked only then); and whether new."""
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is not None:
        return user, False
    _check_password(password or "", "/data/attributes/password")
    user = User(email=email, password_hash=hash_password(password or ""))
    session.add(user)
    session.flush()
    return user, True


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    session: Session, *, organizer_slug: str, name: str, role: str = "admin", actor: str = "system"
) -> str:
    """Create an API token of an existing organizer and return it; only its hash is kept."""
    if role not in ROLES:
        raise InvalidValue(f"The role is one of {', '.join(ROLES)}.", pointer="/data/attributes/role")
    if not name.strip() or len(name) > 200:
        raise InvalidValue("A token's name has 1 to 200 characters.", pointer="/data/attributes/name")
    # Never created here: a mistyped slug must not quietly become a new organizer.
    organizer = organizer_by_slug(session, organizer_slug)
    if session.execute(
        select(ApiToken.id).where(
            ApiToken.organizer_id == organizer.id, ApiToken.name == name, ApiToken.revoked_at.is_(None)
        )
    ).first():
        raise Conflict(f"Organizer '{organizer_slug}' already has a token named '{name}'.", code="token-exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(organizer_id=organizer.id, name=name, token_hash=hash_token(token), role=role)
    session.add(row)
    session.flush()
    activity.record(
        session, organizer_id=organizer.id, actor=actor, action="token.created", subject=f"token:{row.id}",
        after={"name": name, "role": role},
    )
    return token


def revoke_api_token(session: Session, organizer: Organizer, token_id: int, *, actor: str) -> ApiToken:
    """Revoke one of ``organizer``'s tokens: it stops working at once (404 for another organizer's)."""
    token = session.execute(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.organizer_id == organizer.id)
    ).scalar_one_or_none()
    if token is None:
        raise NotFound(f"Token {token_id} does not exist.", parameter="token")
    if token.revoked_at is None:
        token.revoked_at = now()
        activity.record(
            session, organizer_id=organizer.id, actor=actor, action="token.revoked", subject=f"token:{token.id}",
            before={"name": token.name, "revoked": False}, after={"name": token.name, "revoked": True},
        )
    session.flush()
    return token


def add_member(
    session: Session, organizer: Organizer, *, email: str, role: str, password: str | None, actor: str
) -> Membership:
    """Add a user to ``organizer``'s team with ``role``. An unknown e-mail becomes a new user, who
    needs the first password (at least 8 characters); a member already in the team is a 409."""
    email = _member_email(email, role)
    user, created = _user(session, email, password)
    if not created and session.execute(
        select(Membership.id).where(Membership.user_id == user.id, Membership.organizer_id == organizer.id)
    ).first():
        raise Conflict(f"{email} is already in the team.", pointer="/data/attributes/email", code="member-exists")
    membership = Membership(user_id=user.id, organizer_id=organizer.id, role=role)
    session.add(membership)
    session.flush()
    activity.record(
        session, organizer_id=organizer.id, actor=actor, action="member.added", subject=f"user:{user.id}",
        after={"email": email, "role": role},
    )
    return membership


def remove_membership(session: Session, organizer: Organizer, membership_id: int, *, actor: str) -> str:
    """Remove a member from the team by membership (the control panel's list), in the activity log;
    the last admin stays. Their logins end at once (:func:`remove_member`)."""
    membership = session.execute(
        select(Membership).where(Membership.id == membership_id, Membership.organizer_id == organizer.id)
    ).scalar_one_or_none()
    if membership is None:
        raise NotFound(f"Team member {membership_id} does not exist.", parameter="member")
    if membership.role == "admin":
        admins = session.execute(
            select(Membership.id).where(Membership.organizer_id == organizer.id, Membership.role == "admin")
        ).all()
        if len(admins) <= 1:
            raise Conflict("The last admin of a team cannot be removed.", code="last-admin")
    email, role, user_id = membership.user.email, membership.role, membership.user_id
    activity.record(
        session, organizer_id=organizer.id, actor=actor, action="member.removed", subject=f"user:{user_id}",
        before={"email": email, "role": role},
    )
    remove_member(session, email=email, organizer_slug=organizer.slug)
    return email


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
