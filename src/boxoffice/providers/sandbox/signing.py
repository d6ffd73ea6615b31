"""Signatures of the sandbox processor's callbacks (the scheme Stripe uses, with our own header).

``Sandbox-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``. The key is derived from
boxoffice's secret key, so every serve and worker process signs and verifies alike and nobody has a
sandbox secret to configure.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.orm import Session

from boxoffice.accounts.service import secret_key

HEADER = "sandbox-signature"
TOLERANCE_SECONDS = 300


class SignatureMismatch(ValueError):
    """The header is missing, malformed, too old, or not made with the key."""


def webhook_key(session: Session) -> bytes:
    """The sandbox's signing key, derived from (never equal to) the boxoffice secret key."""
    return hmac.new(secret_key(session).encode(), b"boxoffice sandbox webhooks v1", hashlib.sha256).digest()


def _mac(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(key: bytes, body: bytes, timestamp: int) -> str:
    """The header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={_mac(key, timestamp, body)}"


def verify(key: bytes, header: str | None, body: bytes, *, now: int, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise :class:`SignatureMismatch` unless ``header`` signs ``body`` with ``key`` within ``tolerance``
    seconds of ``now`` (so a captured callback cannot be replayed forever)."""
    if not header:
        raise SignatureMismatch(f"The {HEADER} header is missing.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureMismatch(f"The {HEADER} header has no timestamp.") from None
    if abs(now - timestamp) > tolerance:
        raise SignatureMismatch("The signature is too old (or from the future).")
    expected = _mac(key, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise SignatureMismatch("The signature does not match the body.")
