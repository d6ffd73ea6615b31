"""Find payments and refunds by the full ids (``CODE-P-2``, ``CODE-R-1``) the audit log names them by."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.payments.models import Payment, Refund


def _local_id(full_id: str, marker: str) -> int | None:
    head, sep, number = full_id.rpartition(f"-{marker}-")
    if not sep or not head or not number.isdigit():
        return None
    return int(number)


def payment_by_full_id(session: Session, order_id: int, full_id: str) -> Payment | None:
    """The payment of order ``order_id`` named ``full_id``, or None."""
    local_id = _local_id(full_id, "P")
    if local_id is None:
        return None
    return session.execute(
        select(Payment).where(Payment.order_id == order_id, Payment.local_id == local_id)
    ).scalar_one_or_none()


def refund_by_full_id(session: Session, order_id: int, full_id: str) -> Refund | None:
    """The refund of order ``order_id`` named ``full_id``, or None."""
    local_id = _local_id(full_id, "R")
    if local_id is None:
        return None
    return session.execute(
        select(Refund).where(Refund.order_id == order_id, Refund.local_id == local_id)
    ).scalar_one_or_none()
