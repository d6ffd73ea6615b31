"""Queries and row locks for payments and refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from boxoffice.db import loaded, lock_row
from boxoffice.errors import NotFound
from boxoffice.payments.models import Payment, Refund

AttemptT = TypeVar("AttemptT", Payment, Refund)


def lock_payment(session: Session, payment_id: int) -> Payment:
    return lock_row(session, Payment, payment_id)


def lock_refund(session: Session, refund_id: int) -> Refund:
    return lock_row(session, Refund, refund_id)


def order_id_of_payment(session: Session, payment_id: int) -> int:
    held = loaded(session, Payment, payment_id)
    if held is not None:  # an attempt never moves to another order
        return int(held.order_id)
    order_id = session.execute(select(Payment.order_id).where(Payment.id == payment_id)).scalar()
    if order_id is None:
        raise NotFound(f"Payment {payment_id} does not exist.", parameter="id")
    return order_id


def order_id_of_refund(session: Session, refund_id: int) -> int:
    held = loaded(session, Refund, refund_id)
    if held is not None:
        return int(held.order_id)
    order_id = session.execute(select(Refund.order_id).where(Refund.id == refund_id)).scalar()
    if order_id is None:
        raise NotFound(f"Refund {refund_id} does not exist.", parameter="id")
    return order_id


def attempt_sums(session: Session, order_id: int) -> tuple[list[tuple[str, Decimal]], list[tuple[str, Decimal]]]:
    """``(state, summed amount)`` of the order's payments and of its refunds, one query each."""
    payments = session.execute(
        select(Payment.state, func.sum(Payment.amount)).where(Payment.order_id == order_id).group_by(Payment.state)
    ).all()
    refunds = session.execute(
        select(Refund.state, func.sum(Refund.amount)).where(Refund.order_id == order_id).group_by(Refund.state)
    ).all()
    return [(s, Decimal(a)) for s, a in payments], [(s, Decimal(a)) for s, a in refunds]


def refunds_of_payment(session: Session, payment_id: int) -> list[tuple[str, Decimal]]:
    rows = session.execute(select(Refund.state, Refund.amount).where(Refund.payment_id == payment_id)).all()
    return [(s, a) for s, a in rows]


def add_attempt(session: Session, model: type[AttemptT], **values: Any) -> AttemptT:
    """Store a new payment or refund of ``values["order_id"]`` and return it as stored, in one
    statement: the INSERT numbers it itself with the next per-order ``local_id`` (``CODE-P-3``) and
    returns the row. The caller holds the order's row lock, so two attempts never get one number."""
    following = (
        select(func.coalesce(func.max(model.local_id), 0) + 1)
        .where(model.order_id == values["order_id"])
        .scalar_subquery()
    )
    return session.scalars(insert(model).values(local_id=following, **values).returning(model)).one()
