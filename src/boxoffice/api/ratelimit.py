"""Login throttling that holds across every ``serve`` process: attempts are rows in the database.

Three counts, so that guessing is slow but a stranger cannot lock an account's owner out:

* per client address (``ip:``): at most ``BOXOFFICE_LOGIN_ATTEMPTS_PER_MINUTE`` (default 10) in any
  minute, whatever e-mail they name;
* per account and client (``pair:``): :data:`FREE_ATTEMPTS` at once, then a wait that doubles with
  every further attempt (2 s, 4 s, … at most 15 minutes); a successful login clears it;
* per account (``email:``), counting only clients that have not logged in to it before: at most
  :data:`ACCOUNT_FACTOR` times the per-minute limit in an hour, against guessing spread over many
  addresses. A client the account logged in from in the last 30 days (``known:``) is not held by
  it, so the owner's own browser still gets in while strangers are throttled.

Every attempt is counted (and committed) before the password is checked, so wrong passwords count
and two attempts at once both count; a refused attempt counts nothing. The client address is the
peer's, or the one a trusted proxy reports: ``boxoffice serve`` believes ``X-Forwarded-For`` only
from ``BOXOFFICE_TRUSTED_PROXIES``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from boxoffice.api.models import LoginAttempt
from boxoffice.api.rules import backoff_wait, retry_after
from boxoffice.config import get_settings
from boxoffice.errors import TooManyRequests
from boxoffice.kit.clock import now

WINDOW = timedelta(minutes=1)
FREE_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_CAP = timedelta(minutes=15)
BACKOFF_WINDOW = timedelta(hours=1)
ACCOUNT_FACTOR = 10
ACCOUNT_WINDOW = timedelta(hours=1)
KNOWN_FOR = timedelta(days=30)


class LoginThrottled(TooManyRequests):
    """Too many login attempts; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"Too many login attempts; try again in {seconds} seconds.", meta={"retry-after": seconds})
        self.retry_after = seconds


def _names(email: str, client_ip: str | None) -> dict[str, str]:
    email = email.strip().lower()
    client = client_ip or "unknown"
    return {
        "ip": f"ip:{client}",
        "pair": f"pair:{email}|{client}",
        "account": f"email:{email}",
        "known": f"known:{email}|{client}",
    }


def count_login_attempt(session: Session, *, email: str, client_ip: str | None) -> None:
    """Count one attempt, or raise :class:`LoginThrottled` (counting nothing) when it must wait.

    The caller commits the count before checking the password, so failed attempts count too.
    """
    moment = now()
    names = _names(email, client_ip)
    rows = session.execute(
        select(LoginAttempt.bucket, LoginAttempt.attempted_at).where(
            LoginAttempt.bucket.in_(names.values()), LoginAttempt.attempted_at > moment - KNOWN_FOR
        )
    ).all()

    def made(kind: str, within: timedelta) -> list[datetime]:
        return [at for bucket, at in rows if bucket == names[kind] and at > moment - within]

    limit = get_settings().login_attempts_per_minute
    known = bool(made("known", KNOWN_FOR))
    waits = [
        retry_after(made("ip", WINDOW), now=moment, limit=limit, window=WINDOW),
        backoff_wait(
            made("pair", BACKOFF_WINDOW), now=moment, free=FREE_ATTEMPTS, base=BACKOFF_BASE, cap=BACKOFF_CAP
        ),
    ]
    if not known:
        waits.append(
            retry_after(made("account", ACCOUNT_WINDOW), now=moment, limit=limit * ACCOUNT_FACTOR, window=ACCOUNT_WINDOW)
        )
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise LoginThrottled(wait)
    counted = ["ip", "pair"] if known else ["ip", "pair", "account"]
    session.add_all(LoginAttempt(bucket=names[kind], attempted_at=moment) for kind in counted)


def login_succeeded(session: Session, *, email: str, client_ip: str | None) -> None:
    """The right password from this client: its backoff starts again, and the account knows it."""
    names = _names(email, client_ip)
    session.execute(
        delete(LoginAttempt)
        .where(LoginAttempt.bucket.in_([names["pair"], names["known"]]))
        .execution_options(synchronize_session=False)
    )
    session.add(LoginAttempt(bucket=names["known"], attempted_at=now()))


def prune(session: Session) -> int:
    """Delete attempts that no longer count; returns how many."""
    moment = now()
    result = session.execute(
        delete(LoginAttempt)
        .where(
            or_(
                (LoginAttempt.attempted_at <= moment - WINDOW) & LoginAttempt.bucket.like("ip:%"),
                (LoginAttempt.attempted_at <= moment - max(BACKOFF_WINDOW, ACCOUNT_WINDOW))
                & LoginAttempt.bucket.not_like("known:%"),
                LoginAttempt.attempted_at <= moment - KNOWN_FOR,
            )
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
