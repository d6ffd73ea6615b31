"""The mail reaction: an audit entry that calls for e-mails queues them, in the transaction that made
the change (wired in :mod:`boxoffice.reactions`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from boxoffice.kit.clock import now
from boxoffice.mail.rules import mails_for
from boxoffice.mail.service import queue_for_order
from boxoffice.orders.audit import Action
from boxoffice.orders.models import Order

# Orders whose "order placed" mail was queued in the current transaction: that mail already carries
# the payment instructions, so a payment going pending in the same transaction needs no mail of its own.
_PLACED = "boxoffice.mail.placed-this-transaction"


def queue_mails(session: Session, order: Order, action: Action, data: dict[str, Any]) -> None:
    """Queue the mails ``action`` calls for (see :func:`boxoffice.mail.rules.mails_for`)."""
    # Each time the order becomes paid is told apart by when: the mail's unique key then keeps it to one
    # mail per time, with no count of earlier ones.
    occurrence = (order.paid_at or now()).isoformat() if action == Action.ORDER_PAID else 1
    intents = mails_for(action, data, order_status=order.status, order_total=order.total, occurrence=occurrence)
    placed: set[int] = session.info.setdefault(_PLACED, set())
    for intent in intents:
        if intent.template == "payment-pending" and order.id in placed:
            continue
        queue_for_order(session, order, intent)
        if intent.template == "order-placed":
            placed.add(order.id)


@event.listens_for(Session, "after_transaction_end")
def _forget_placed(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PLACED, None)
