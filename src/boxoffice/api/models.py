"""Tables of the HTTP layer: stored responses of idempotent requests, and login attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db import Base, UTCDateTime
from boxoffice.kit.clock import now


class IdempotencyKey(Base):
    """One ``Idempotency-Key`` of one caller, and the response its first request got.

    The unique ``(scope, key)`` is what makes two concurrent requests with one key run the use case
    once: the second insert waits for the first transaction and then finds its row.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who sent the key: "user:7", "token:<hash>", "order:12", "anonymous".
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path, query and the canonical JSON body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # "in-progress" while the request runs (between its units of work), then "done".
    state: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # An in-progress row whose request died is given to the next request with the key after this.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """One ``POST /v1/auth/session``, counted per bucket ("email:…", "ip:…") for the rate limit.

    Kept in the database so every ``serve`` process on every machine counts the same attempts.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_bucket_at", "bucket", "attempted_at"),
        Index("ix_login_attempts_attempted_at", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(300))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
