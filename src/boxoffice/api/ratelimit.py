"""Login rate limiting that holds across every ``serve`` process: attempts are rows in the database.

Each ``POST /v1/auth/session`` counts once against the e-mail it names and once against the client
address; more than ``BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE`` (default 10) in any minute, in either
bucket, is answered 429 with ``Retry-After``. Refused attempts are not counted, so a bucket drains
one minute after its last counted attempt.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from boxoffice.api.models import LoginAttempt
from boxoffice.api.rules import retry_after
from boxoffice.config import get_settings
from boxoffice.errors import TooManyRequests
from boxoffice.kit.clock import now

WINDOW = timedelta(minutes=1)


class LoginThrottled(TooManyRequests):
    """Too many login attempts; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Too many login attempts; try again in {seconds} seconds.", meta={"retry-after": seconds})
        self.retry_after = seconds


def buckets(email: str, client_ip: str | None) -> list[str]:
    """The buckets one attempt counts against."""
    found = [f"email:{email.strip().lower()}"]
    if client_ip:
        found.append(f"ip:{client_ip}")
    return found


def count_login_attempt(session: Session, *, email: str, client_ip: str | None) -> None:
    """Count one attempt, or raise :class:`LoginThrottled` (counting nothing) when a bucket is full.

    The caller commits the count before checking the password, so failed attempts count too.
    """
    moment = now()
    names = buckets(email, client_ip)
    limit = get_settings().login_attempts_per_minute
    rows = session.execute(
        select(LoginAttempt.bucket, LoginAttempt.attempted_at).where(
            LoginAttempt.bucket.in_(names), LoginAttempt.attempted_at > moment - WINDOW
        )
    ).all()
    waits = [
        retry_after((at for bucket, at in rows if bucket == name), now=moment, limit=limit, window=WINDOW)
        for name in names
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise LoginThrottled(wait)
    session.add_all(LoginAttempt(bucket=name, attempted_at=moment) for name in names)


def prune(session: Session) -> int:
    """Delete attempts that no longer count; returns how many."""
    result = session.execute(
        delete(LoginAttempt)
        .where(LoginAttempt.attempted_at <= now() - WINDOW)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
