"""Queries and row locks for payments and refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from boxoffice.catalogue.models import Event
from boxoffice.db import held_lock, loaded, lock_row, note_locks
from boxoffice.errors import NotFound
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.repository import lock_order
from boxoffice.payments.models import Payment, Refund

AttemptT = TypeVar("AttemptT", Payment, Refund)


def lock_payment(session: Session, payment_id: int) -> Payment:
    return lock_row(session, Payment, payment_id)


def lock_attempt(session: Session, order_id: int, payment_id: int) -> Payment:
    """Payment ``payment_id`` of order ``order_id`` with both rows locked in one statement, the
    order's first as everywhere: PostgreSQL locks each row of the result in the order of the
    ``FOR UPDATE OF`` list, so ``orders`` must stay first there. The order comes with its event and
    organizer; its fee lines are not joined in (see :func:`boxoffice.orders.repository.lock_order`)."""
    if held_lock(session, Order, order_id) is not None or held_lock(session, Payment, payment_id) is not None:
        # One of them is held as this transaction changed it: re-reading it would lose that.
        lock_order(session, order_id)
        held = lock_payment(session, payment_id)
        if held.order_id != order_id:
            raise NotFound(f"Payment {payment_id} of order {order_id} does not exist.", parameter="id")
        return held
    payment = session.execute(
        select(Payment)
        .join(Payment.order)
        .options(contains_eager(Payment.order).joinedload(Order.event).joinedload(Event.organizer))
        .where(Payment.id == payment_id, Payment.order_id == order_id)
        .with_for_update(of=[Order, Payment])
        .execution_options(populate_existing=True)
    ).unique().scalar_one_or_none()
    if payment is None:
        raise NotFound(f"Payment {payment_id} of order {order_id} does not exist.", parameter="id")
    note_locks(session, payment.order, payment)
    return payment


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


def order_contents(session: Session, order_id: int) -> Order | None:
    """``order_id`` with its event, positions (and their products) and fees: what a mail or a page
    about the order shows (its payments load when read), in one query. An order this transaction
    holds already keeps what it loaded and only the rest is read (nothing at all when it has it)."""
    held = loaded(session, Order, order_id)
    unloaded = inspect(held).unloaded if held is not None else {"event", "positions", "fees"}
    loads = [
        load
        for name, load in (
            ("event", joinedload(Order.event)),
            ("positions", joinedload(Order.positions).joinedload(OrderPosition.product)),
            ("fees", joinedload(Order.fees)),
        )
        if name in unloaded
    ]
    if held is not None and not loads:
        return held
    # On an order the session holds, eager loads fill the collections not loaded yet and leave the
    # rest (and its columns) as they are.
    return session.execute(select(Order).where(Order.id == order_id).options(*loads)).unique().scalar_one_or_none()

