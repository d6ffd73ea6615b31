"""Recompute an order's stored balance from its attempts (same transaction as the change)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from boxoffice.orders.models import Order
from boxoffice.payments import rules
from boxoffice.payments.repository import attempt_sums


def compute_balance(session: Session, order: Order) -> rules.Balance:
    session.flush()
    payments, refunds = attempt_sums(session, order.id)
    return rules.balance(total=order.total, order_status=order.status, payments=payments, refunds=refunds)


def refresh_balance(session: Session, order: Order) -> rules.Balance:
    """Write the balance derived from the order's payments and refunds onto the order row."""
    bal = compute_balance(session, order)
    order.payment_total = bal.payment_total
    order.refund_total = bal.refund_total
    order.pending_sum = bal.pending_sum
    order.payment_state = bal.payment_state.value
    order.has_open_refund = bal.has_open_refund
    return bal
