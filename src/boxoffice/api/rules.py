"""Pure decisions of the HTTP layer: what a repeated Idempotency-Key means, and when logins wait.

No I/O here: the database work is in :mod:`boxoffice.api.idempotency` and
:mod:`boxoffice.api.ratelimit`; these functions are tested exhaustively on plain values.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

# Stripe's window: the first response is replayed for 24 hours, then the key may be used anew.
REPLAY_WINDOW = timedelta(hours=24)
# How long a request may hold its key between its units of work before it is presumed dead.
LEASE = timedelta(minutes=2)
MAX_KEY_LENGTH = 255

IN_PROGRESS = "in-progress"
DONE = "done"


class KeyDecision(StrEnum):
    """What to do with a request whose key is already stored."""

    REPLAY = "replay"  # same request, finished: answer with the stored response
    REUSED = "reused"  # another request under the same key: 422 idempotency-key-reused
    IN_PROGRESS = "in-progress"  # same request, still running: 409 idempotency-key-in-progress
    RESTART = "restart"  # the stored one expired or died: run this request as if the key were new


def decide(
    *, state: str, same_request: bool, created_at: datetime, locked_until: datetime | None, now: datetime
) -> KeyDecision:
    """The meaning of a key that is already stored, for a request that arrives at ``now``."""
    if created_at <= now - REPLAY_WINDOW:
        return KeyDecision.RESTART
    if not same_request:
        return KeyDecision.REUSED
    if state == DONE:
        return KeyDecision.REPLAY
    if locked_until is None or locked_until <= now:
        return KeyDecision.RESTART
    return KeyDecision.IN_PROGRESS


# Visible ASCII: "!" to "~", no space, no control character.
KEY_PATTERN = f"^[\\x21-\\x7e]{{1,{MAX_KEY_LENGTH}}}$"


def valid_key(key: str) -> bool:
    """Keys are 1 to 255 visible ASCII characters (a UUID v4 is the recommended choice)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all("!" <= char <= "~" for char in key)


def anonymous_scope(client_address: str | None) -> str:
    """Whose a key sent without credentials is: the client address's, so another caller sending the
    same key and body never gets the first one's answer (an order's buyer token)."""
    return f"anonymous:{client_address or 'unknown'}"


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same": method, path, query and the body.

    A JSON body is compared by its content (member order and white space do not matter); anything
    else byte for byte.
    """
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def retry_after(attempts: Iterable[datetime], *, now: datetime, limit: int, window: timedelta) -> int | None:
    """Seconds until one more attempt is allowed, or None when it is allowed now.

    At most ``limit`` attempts fit in any ``window`` (a sliding window): when that many happened
    within the last ``window``, the next is allowed once the oldest of them leaves it.
    """
    recent = sorted(at for at in attempts if at > now - window)
    if len(recent) < limit:
        return None
    oldest_counting = recent[len(recent) - limit]
    return max(1, math.ceil((oldest_counting + window - now).total_seconds()))


def backoff_wait(attempts: Iterable[datetime], *, now: datetime, free: int, base: timedelta, cap: timedelta) -> int | None:
    """Seconds until one more attempt is allowed after ``attempts`` (failed logins of one account from
    one client), or None: ``free`` attempts at once, then a wait after the latest that doubles with
    each further attempt, from ``base`` up to ``cap``."""
    made = sorted(attempts)
    if len(made) < free:
        return None
    wait = min(base * 2 ** min(len(made) - free, 32), cap)
    seconds = math.ceil((made[-1] + wait - now).total_seconds())
    return seconds if seconds > 0 else None
