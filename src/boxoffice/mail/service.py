"""Queue e-mails in the caller's transaction: one ``mails`` row per cause, and a job that sends it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached

from boxoffice.accounts.models import Membership, User
from boxoffice.kit.clock import now
from boxoffice.mail.models import Mail
from boxoffice.mail.rules import TEMPLATES, Audience, MailIntent
from boxoffice.orders.models import Order
from boxoffice.outbox.repository import insert_or_skip
from boxoffice.outbox.service import enqueue

SEND_TASK = "mail.send"
_QUEUED = "boxoffice.mail.queued"


def organizer_recipients(session: Session, organizer_id: int) -> list[str]:
    """The addresses organizer mails go to: the organizer's active admins."""
    rows = session.execute(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organizer_id == organizer_id, Membership.role == "admin", User.is_active.is_(True))
        .order_by(User.email)
    ).scalars()
    return list(rows)


def queue_mail(
    session: Session,
    *,
    template: str,
    about: str,
    cause: str,
    organizer_id: int,
    recipients: list[str],
    order_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> int | None:
    """Queue one mail unless this (template, about, cause) was queued before; returns the new mail's id.

    Nobody to send to (a buyer without address, an organizer without admins) queues nothing.
    """
    if template not in TEMPLATES:
        raise ValueError(f"'{template}' is not a mail template")
    if not recipients:
        return None
    values = {
        "template": template,
        "about": about,
        "cause": cause,
        "organizer_id": organizer_id,
        "order_id": order_id,
        "recipients": recipients,
        "context": context or {},
        "state": "queued",
        "subject": None,
        "attempts": 0,
        "last_error": None,
        "created_at": now(),
        "sent_at": None,
    }
    mail_id = insert_or_skip(session, Mail, values, unique=["template", "about", "cause"])
    if mail_id is not None:
        # The session knows the row as written (and keeps it: its identity map holds clean rows
        # weakly), so the sender rendering it in this transaction (see boxoffice.outbox.service)
        # takes it from there instead of selecting it again.
        mail = Mail(id=mail_id, **values)
        make_transient_to_detached(mail)
        session.add(mail)
        session.info.setdefault(_QUEUED, []).append(mail)
        enqueue(session, SEND_TASK, {"mail_id": mail_id})
    return mail_id


def queue_for_order(session: Session, order: Order, intent: MailIntent) -> int | None:
    """Queue ``intent`` about ``order``: to the buyer or to the organizer's admins, as its template says."""
    organizer_id = order.event.organizer_id
    if intent.audience is Audience.BUYER:
        recipients = [order.email] if order.email else []
    else:
        recipients = organizer_recipients(session, organizer_id)
    return queue_mail(
        session,
        template=intent.template,
        about=f"order:{order.id}",
        cause=intent.cause,
        organizer_id=organizer_id,
        recipients=recipients,
        order_id=order.id,
        context=intent.context,
    )


def notify_unmatched_transfer(
    session: Session,
    organizer_id: int,
    *,
    transaction_key: str,
    amount: Decimal,
    currency: str,
    reference: str | None = None,
    payer: str | None = None,
    booked_on: str | None = None,
) -> int | None:
    """Tell the organizer's admins about a bank transfer no order matched (once per transaction).

    ``transaction_key`` is the imported transaction's stable identity (its id or checksum).
    """
    return queue_mail(
        session,
        template="unmatched-transfer",
        about=f"organizer:{organizer_id}",
        cause=f"transaction:{transaction_key}",
        organizer_id=organizer_id,
        recipients=organizer_recipients(session, organizer_id),
        context={
            "amount": format(amount, "f"),
            "currency": currency,
            "reference": reference,
            "payer": payer,
            "booked_on": booked_on,
        },
    )


@event.listens_for(Session, "after_transaction_end")
def _forget_queued(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)
