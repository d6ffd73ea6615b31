"""Stripe's vocabulary in ours, as plain functions: metadata, idempotency keys, states, disputes."""

from __future__ import annotations

from collections.abc import Mapping

from boxoffice.payments.rules import PaymentState, RefundState

# Metadata keys we put on Stripe objects. Stripe shows them in its dashboard too.
PAYMENT_KEY = "boxoffice_payment"
REFUND_KEY = "boxoffice_refund"
FULL_ID_KEY = "boxoffice_full_id"
ORDER_KEY = "boxoffice_order"


def payment_metadata(payment_id: int, full_id: str) -> dict[str, str]:
    """Metadata of a PaymentIntent: our payment's database id and its full id (``CODE-P-2``)."""
    return {PAYMENT_KEY: str(payment_id), FULL_ID_KEY: full_id, ORDER_KEY: full_id.split("-")[0]}


def refund_metadata(refund_id: int, full_id: str) -> dict[str, str]:
    """Metadata of a Refund: our refund's database id and its full id (``CODE-R-1``)."""
    return {REFUND_KEY: str(refund_id), FULL_ID_KEY: full_id, ORDER_KEY: full_id.split("-")[0]}


def idempotency_key(kind: str, row_id: int, full_id: str) -> str:
    """The Idempotency-Key of the one Stripe call that moves the money of one attempt.

    Each attempt is its own row (a retry after a decline is a new payment, ``CODE-P-3`` after
    ``CODE-P-2``), so the key changes exactly when the attempt does; the same attempt sent again
    after a timeout sends the same key and Stripe answers it once. The database id makes it unique
    across events; the full id makes it readable in Stripe's logs.
    """
    return f"boxoffice-{kind}-{row_id}-{full_id}"


def claimed_row(metadata: Mapping[str, str] | None, key: str) -> tuple[int, str] | None:
    """``(database id, full id)`` that metadata names under ``key`` (payment or refund), if well formed."""
    if not metadata:
        return None
    raw, full_id = metadata.get(key), metadata.get(FULL_ID_KEY)
    if not raw or not raw.isdigit() or not full_id:
        return None
    return int(raw), full_id


_INTENT_STATES = {
    "succeeded": PaymentState.CONFIRMED,
    "requires_action": PaymentState.PENDING,
    "processing": PaymentState.PENDING,
    "failed": PaymentState.FAILED,
    "canceled": PaymentState.CANCELED,
}

_REFUND_STATES = {
    "succeeded": RefundState.DONE,
    "pending": RefundState.TRANSIT,
    "requires_action": RefundState.TRANSIT,
    "failed": RefundState.FAILED,
    "canceled": RefundState.CANCELED,
}


def intent_state(status: str) -> str:
    """Our payment state for a gateway :class:`IntentResult` status."""
    return _INTENT_STATES.get(status, "unknown")


def refund_state(status: str) -> str:
    """Our refund state for a Stripe Refund's ``status``."""
    return _REFUND_STATES.get(status, "unknown")


def dispute_takes_money(status: str) -> bool:
    """Whether a dispute in ``status`` withdrew money: inquiries (``warning_…``) do not."""
    return not status.startswith("warning_")


def dispute_won(status: str) -> bool:
    """Whether a closed dispute left the money with the organizer."""
    return status in ("won", "warning_closed")


def signed_recently(signature_header: str, now_ts: int, tolerance: int) -> bool:
    """Whether a ``Stripe-Signature`` header's ``t=`` is within ``tolerance`` seconds of now, either way."""
    for part in signature_header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                return abs(now_ts - int(value)) <= tolerance
            except ValueError:
                return False
    return False
