"""Tables of accounts: users, their membership in organizer teams, API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.catalogue.models import Organizer
from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now

ROLES = ("admin", "staff")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Membership(Base):
    """A user's role in one organizer's team."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organizer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    user: Mapped[User] = relationship(back_populates="memberships")
    organizer: Mapped[Organizer] = relationship()


class ApiToken(Base):
    """An organizer's API token; only a hash of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """One login of a user: the session a user token (and the panel's cookie) stands for.

    A token is honoured only while its session is here and not revoked, so logging out, changing
    the password and leaving a team end it at once, in every ``serve`` process.
    """

    __tablename__ = "user_sessions"

    # Random, so a session cannot be named by guessing; the token carries it as its ``sid``.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SystemSetting(Base):
    """Process-independent settings every serve/worker process shares (e.g. the generated secret)."""

    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
