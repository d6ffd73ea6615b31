"""An order's stored balance, kept in the same transaction as every change of its attempts or total."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

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
    return write_balance(order, compute_balance(session, order))


def restate_balance(session: Session, order: Order, before: rules.Balance) -> rules.Balance:
    """Write the balance after a change of the order's status alone, ``before`` being the balance
    refreshed since the attempts last changed: only ``payment_state`` can move, so the attempts are
    not flushed and summed again. Falls back to :func:`refresh_balance` if the total moved."""
    if order.total != before.pending_sum + before.net_paid:
        return refresh_balance(session, order)
    state = rules.payment_state(
        total=order.total, net_paid=before.net_paid, order_status=order.status, ever_paid=before.payment_total > 0
    )
    return write_balance(order, replace(before, payment_state=state))


def stored_balance(order: Order) -> rules.Balance | None:
    """The balance as the order's columns hold it, or None when they no longer add up to its total
    (the total changed since they were written): then only :func:`refresh_balance` is right."""
    if order.total != order.pending_sum + order.payment_total - order.refund_total:
        return None
    return rules.Balance(
        order.payment_total,
        order.refund_total,
        order.pending_sum,
        rules.PaymentStateOfOrder(order.payment_state),
        order.has_open_refund,
    )


def add_confirmed_payment(session: Session, order: Order, amount: Decimal) -> rules.Balance:
    """Write the balance after one more payment of ``amount`` was confirmed: added to the stored
    balance (no query), since every other change of the attempts wrote the balance when it happened."""
    before = stored_balance(order)
    if before is None:
        return refresh_balance(session, order)
    return write_balance(order, rules.with_payment(before, amount, total=order.total, order_status=order.status))


def write_balance(order: Order, bal: rules.Balance) -> rules.Balance:
    """Store ``bal`` in the order's balance columns."""
    order.payment_total = bal.payment_total
    order.refund_total = bal.refund_total
    order.pending_sum = bal.pending_sum
    order.payment_state = bal.payment_state.value
    order.has_open_refund = bal.has_open_refund
    return bal
