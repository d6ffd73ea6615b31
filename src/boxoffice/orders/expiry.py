"""Background work around order deadlines: expiring due orders, reminding buyers, late payments.

* ``orders.expire-due`` (every minute): each pending order past its deadline is expired through
  :func:`boxoffice.orders.service.expire_order`, one unit of work per order. That function locks the
  order and re-checks it, so two workers racing over the same order release its seats once.
* ``orders.remind-expiring`` (every five minutes): buyers of pending orders inside the event's
  reminder window get one reminder per deadline.
* Late payments whose quota is gone: the organizer is told (an e-mail, see :mod:`boxoffice.reactions`);
  under the ``refund`` policy the money also goes back, by the ``orders.refund-late-payment`` job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.catalogue.policies import LatePaymentPolicy, late_payment_policy, reminder_due, reminder_hours
from boxoffice.db import unit_of_work
from boxoffice.kit.clock import now
from boxoffice.kit.writeahead import write_ahead
from boxoffice.mail.models import Mail
from boxoffice.mail.rules import expiry_reminder
from boxoffice.mail.service import queue_for_order
from boxoffice.orders import service as orders
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order
from boxoffice.orders.repository import lock_order
from boxoffice.orders.rules import OrderStatus
from boxoffice.outbox.service import enqueue
from boxoffice.outbox.tasks import Task
from boxoffice.payments import rules as payment_rules
from boxoffice.payments.lookup import payment_by_full_id
from boxoffice.payments.repository import refunds_of_payment

log = logging.getLogger(__name__)

EXPIRE_BATCH = 1000
LATE_REFUND_ACTOR = "system:late-payment-policy"


def expire_due_orders(*, limit: int = EXPIRE_BATCH) -> int:
    """Expire pending orders whose deadline has passed; returns how many this call expired."""
    with unit_of_work() as session:
        due: Sequence[int] = (
            session.execute(
                select(Order.id)
                .where(Order.status == OrderStatus.PENDING, Order.expires_at <= now())
                .order_by(Order.expires_at, Order.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    expired = 0
    for order_id in due:
        try:
            with unit_of_work() as session:
                expired += orders.expire_order(session, order_id)
        except Exception:
            # The order stays pending and due; the next run tries again. The others go on.
            log.exception("order %s could not be expired", order_id)
    return expired


def expire_due(params: dict[str, Any]) -> None:
    count = expire_due_orders()
    if count:
        log.info("expired %s order(s)", count)


EXPIRE_DUE = Task("orders.expire-due", expire_due, max_attempts=3)


def queue_expiry_reminders() -> int:
    """Queue a reminder for each pending order inside its event's reminder window; returns how many."""
    moment = now()
    queued = 0
    with unit_of_work() as session:
        event_ids = session.execute(
            select(Order.event_id).where(Order.status == OrderStatus.PENDING, Order.expires_at > moment).distinct()
        ).scalars()
        for event in session.execute(select(Event).where(Event.id.in_(list(event_ids)))).scalars():
            hours = reminder_hours(event.settings)
            if hours is not None:
                queued += _remind_event(session, event, hours)
    return queued


def _remind_event(session: Session, event: Event, hours: int) -> int:
    moment = now()
    candidates = session.execute(
        select(Order).where(
            Order.event_id == event.id,
            Order.status == OrderStatus.PENDING,
            Order.email.is_not(None),
            Order.expires_at > moment,
            Order.expires_at <= moment + timedelta(hours=hours),
        )
    ).scalars()
    due = [
        o
        for o in candidates
        if reminder_due(placed_at=o.created_at, expires_at=o.expires_at, moment=moment, hours=hours)
    ]
    if not due:
        return 0
    # Reminders already queued are skipped here; the mails' unique key would skip them anyway.
    reminded = {
        (order_id, cause)
        for order_id, cause in session.execute(
            select(Mail.order_id, Mail.cause).where(
                Mail.template == "expiry-reminder", Mail.order_id.in_([o.id for o in due])
            )
        )
    }
    queued = 0
    for order in due:
        intent = expiry_reminder(order.expires_at.isoformat())
        if (order.id, intent.cause) not in reminded and queue_for_order(session, order, intent) is not None:
            queued += 1
    return queued


def remind_expiring(params: dict[str, Any]) -> None:
    count = queue_expiry_reminders()
    if count:
        log.info("queued %s expiry reminder(s)", count)


REMIND_EXPIRING = Task("orders.remind-expiring", remind_expiring, max_attempts=3)


def queue_late_payment_refund(session: Session, order: Order, action: Action, data: dict[str, Any]) -> None:
    """The reaction to ``order.quota-exceeded``: under the ``refund`` policy, a late payment that
    found its quota gone goes back (a job, after commit)."""
    if action != Action.ORDER_QUOTA_EXCEEDED or not data.get("payment"):
        return
    if late_payment_policy(order.event.settings) is LatePaymentPolicy.REFUND:
        payment = data["payment"]
        enqueue(
            session,
            "orders.refund-late-payment",
            {"order_id": order.id, "payment": payment},
            dedupe_key=f"late-payment-refund:{order.id}:{payment}",
        )


def refund_late_payment(params: dict[str, Any]) -> None:
    """Give back a late payment whose order stayed expired, unless someone settled it meanwhile.

    Write-ahead: the refund is committed before its provider is asked, so a crash in between leaves
    a ``created`` refund to execute again, never money moved without a row.
    """
    from boxoffice.payments.refunding import execute_refund, refund_payment

    def write(session: Session) -> list[int]:
        order = lock_order(session, int(params["order_id"]))
        payment = payment_by_full_id(session, order.id, params["payment"])
        if payment is None or payment.state != payment_rules.PaymentState.CONFIRMED:
            return []
        if order.status != OrderStatus.EXPIRED:
            # The organizer made room and the order is paid (or it was canceled and refunded): not ours.
            return []
        amount = payment_rules.refundable_amount(payment.amount, refunds_of_payment(session, payment.id))
        if amount <= 0:
            return []
        refund = refund_payment(
            session,
            payment.id,
            amount=amount,
            actor=LATE_REFUND_ACTOR,
            comment="Paid after the order expired, when its tickets were gone (late-payment policy: refund).",
            execute=False,
        )
        return [refund.id]

    write_ahead(
        unit_of_work, write, lambda session, refund_id: execute_refund(session, refund_id, actor=LATE_REFUND_ACTOR)
    )


REFUND_LATE_PAYMENT = Task("orders.refund-late-payment", refund_late_payment)
