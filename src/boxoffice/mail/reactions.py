"""The mail reaction: an audit entry that calls for e-mails queues them, in the transaction that made
the change (wired in :mod:`boxoffice.reactions`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from boxoffice.mail.rules import COUNTED_ACTIONS, mails_for
from boxoffice.mail.service import queue_for_order
from boxoffice.orders.audit import Action
from boxoffice.orders.models import AuditEntry, Order

# Orders whose "order placed" mail was queued in the current transaction: that mail already carries
# the payment instructions, so a payment going pending in the same transaction needs no mail of its own.
_PLACED = "boxoffice.mail.placed-this-transaction"


def queue_mails(session: Session, order: Order, action: Action, data: dict[str, Any]) -> None:
    """Queue the mails ``action`` calls for (see :func:`boxoffice.mail.rules.mails_for`)."""
    occurrence = 1
    if action in COUNTED_ACTIONS:
        # Autoflush writes the entry being recorded first, so the count includes it.
        occurrence = session.execute(
            select(func.count(AuditEntry.id)).where(AuditEntry.order_id == order.id, AuditEntry.action == action)
        ).scalar_one()
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
