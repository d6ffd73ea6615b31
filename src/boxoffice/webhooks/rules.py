"""Rules of outgoing webhooks as plain functions: event types, signatures, retry backoff, URLs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from boxoffice.errors import InvalidValue

# The audit actions an organizer can subscribe to; each is sent under its own name.
EVENT_TYPES: tuple[str, ...] = (
    "order.placed",
    "order.paid",
    "order.canceled",
    "order.changed",
    "order.expired",
    "order.pending",
    "payment.confirmed",
    "payment.failed",
    "refund.created",
    "refund.done",
    "refund.external",
)
SIGNATURE_HEADER = "Boxoffice-Signature"
RETRY_WINDOW = timedelta(days=3)
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=6)
SIGNATURE_TOLERANCE = timedelta(minutes=5)


def event_type_for(action: str) -> str | None:
    """The webhook event type an audit action is sent as, or None when it is not sent."""
    return str(action) if action in EVENT_TYPES else None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the endpoint's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``Boxoffice-Signature`` header: ``t=<unix time>,v1=<hex signature>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *, now_ts: int) -> bool:
    """How a receiver checks a delivery: a ``v1`` that matches and a timestamp no older than 5 minutes."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now_ts - timestamp) > SIGNATURE_TOLERANCE.total_seconds():
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt``: 30 s, doubling, at most 6 hours."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    return min(RETRY_BASE * 2 ** min(attempt - 1, 16), RETRY_CAP)


def next_attempt_at(attempt: int, moment: datetime, give_up_at: datetime) -> datetime | None:
    """When to try again after attempt ``attempt`` failed at ``moment``; None once past ``give_up_at``."""
    later = moment + retry_delay(attempt)
    return later if later <= give_up_at else None


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def check_url(url: str, *, pointer: str = "/data/attributes/url") -> str:
    """An absolute http(s) URL, or a 422 naming ``pointer``."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidValue("The URL must be an absolute http:// or https:// address.", pointer=pointer)
    return url


def check_event_types(event_types: Iterable[str], *, pointer: str = "/data/attributes/event-types") -> list[str]:
    """Known event types, each once, in the order given; a 422 naming the first unknown one."""
    seen: list[str] = []
    for index, event_type in enumerate(event_types):
        if event_type not in EVENT_TYPES:
            raise InvalidValue(
                f"'{event_type}' is not an event type; choose from {', '.join(EVENT_TYPES)}.",
                pointer=f"{pointer}/{index}",
                code="unknown-event-type",
            )
        if event_type not in seen:
            seen.append(event_type)
    if not seen:
        raise InvalidValue("Subscribe to at least one event type.", pointer=pointer)
    return seen
