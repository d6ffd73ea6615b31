"""Human-facing identifiers: order codes and secrets."""

from __future__ import annotations

import secrets

# No I, O, 0 or 1: codes are read aloud at the door and typed from bank statements.
ORDER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ORDER_CODE_LENGTH = 5


def new_order_code() -> str:
    return "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(ORDER_CODE_LENGTH))


# 20 random bytes: 160 bits, 27 URL-safe characters — short enough for a small, easily scanned QR code.
TICKET_SECRET_BYTES = 20


def new_ticket_secret() -> str:
    """The secret of one ticket: the content of its QR code, unguessable and URL-safe."""
    return secrets.token_urlsafe(TICKET_SECRET_BYTES)


def new_secret(nbytes: int = 24) -> str:
    """An unguessable URL-safe secret (order links, tokens)."""
    return secrets.token_urlsafe(nbytes)
