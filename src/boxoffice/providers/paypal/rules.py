"""PayPal's vocabulary in ours, as plain functions: our marks on PayPal objects, request ids, states."""

from __future__ import annotations

from boxoffice.payments.rules import PaymentState, RefundState

_MARK = "bxo"


def mark(row_id: int, full_id: str) -> str:
    """What we put in ``custom_id`` (payments) and ``invoice_id`` (refunds): ``bxo:<db id>:<full id>``.

    PayPal copies a purchase unit's ``custom_id`` onto its capture and shows both in the merchant's
    reports; the database id makes it unique across events, the full id readable and checkable.
    """
    return f"{_MARK}:{row_id}:{full_id}"


def read_mark(text: str | None) -> tuple[int, str] | None:
    """``(db id, full id)`` from a mark made by :func:`mark`; None for anything else."""
    if not text:
        return None
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != _MARK or not parts[1].isdigit() or not parts[2]:
        return None
    return int(parts[1]), parts[2]


def request_id(kind: str, row_id: int, full_id: str, step: str) -> str:
    """The ``PayPal-Request-Id`` of one call that creates something for one attempt.

    PayPal answers a repeated id with its first answer, so the same attempt retried after a timeout
    never acts twice, while a new attempt (a new row) gets new ids.
    """
    return f"boxoffice-{kind}-{row_id}-{full_id}-{step}"


_CAPTURE_STATES = {
    "COMPLETED": PaymentState.CONFIRMED,
    # Refunded later: it was captured all the same (refunds are counted on their own).
    "PARTIALLY_REFUNDED": PaymentState.CONFIRMED,
    "REFUNDED": PaymentState.CONFIRMED,
    "PENDING": PaymentState.PENDING,
    "DECLINED": PaymentState.FAILED,
    "DENIED": PaymentState.FAILED,
    "FAILED": PaymentState.FAILED,
}

_REFUND_STATES = {
    "COMPLETED": RefundState.DONE,
    "PENDING": RefundState.TRANSIT,
    "FAILED": RefundState.FAILED,
    "CANCELLED": RefundState.CANCELED,
}

# An order still waiting for the buyer (to approve) or for us (to capture).
_WAITING_ORDER_STATUSES = frozenset({"CREATED", "SAVED", "APPROVED", "PAYER_ACTION_REQUIRED"})


def capture_state(status: str | None) -> str:
    """Our payment state for a capture's status (as the client reports it, or raw in a webhook)."""
    return _CAPTURE_STATES.get(status or "", "unknown")


def refund_state(status: str | None) -> str:
    """Our refund state for a PayPal refund's status."""
    return _REFUND_STATES.get(status or "", "unknown")


def order_state(order_status: str, capture_status: str | None) -> str:
    """Our payment state for a PayPal order as the janitor finds it: its capture decides, if any."""
    if capture_status is not None:
        return capture_state(capture_status)
    if order_status in _WAITING_ORDER_STATUSES:
        return PaymentState.PENDING
    if order_status == "VOIDED":
        return PaymentState.CANCELED
    return "unknown"


# Dispute outcomes that leave the money with the merchant (PayPal's ``dispute_outcome.outcome_code``).
_MERCHANT_KEEPS = frozenset({"RESOLVED_SELLER_FAVOUR", "RESOLVED_WITH_PAYOUT", "CANCELED_BY_BUYER", "DENIED"})


def dispute_won(outcome_code: str | None) -> bool:
    """Whether a resolved dispute left the money with the organizer."""
    return (outcome_code or "") in _MERCHANT_KEEPS


# A dispute and a capture reversal of the same amount are one loss told twice: PayPal reverses the
# capture when a chargeback is filed, and reports the dispute as well.
PAIRED_KINDS = {"dispute": "reversal", "reversal": "dispute"}
