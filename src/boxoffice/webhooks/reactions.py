"""The webhook reaction (wired in :mod:`boxoffice.reactions`): collect webhook events from the audit
log during a transaction; turn them into deliveries just
before it commits, so each delivery carries the resource as that transaction leaves it (an order
paid in the same transaction it was placed in shows as paid in both events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from boxoffice.kit.clock import now
from boxoffice.orders.audit import Action
from boxoffice.orders.models import Order
from boxoffice.webhooks.rules import event_type_for
from boxoffice.webhooks.service import PendingEvent, create_deliveries

_PENDING = "boxoffice.webhooks.pending-events"


def collect(session: Session, order: Order, action: Action, data: dict[str, Any]) -> None:
    """Remember that ``action`` happened to ``order``, to be sent as a webhook event at commit."""
    event_type = event_type_for(action)
    # Nobody listens (the common case): known from the organizer's row, read with the order's event.
    if event_type is None or not order.event.organizer.enabled_webhooks:
        return
    pending = PendingEvent(
        order.id, order.event.organizer_id, event_type, data.get("payment"), data.get("refund"), now()
    )
    session.info.setdefault(_PENDING, []).append(pending)


@event.listens_for(Session, "before_commit")
def _deliver_before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        create_deliveries(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
