"""The money per day of each event, kept in :class:`~boxoffice.books.models.MoneyOfDay` as it moves.

Three figures per UTC day, the ones the control panel's chart draws:

* **sold** — the totals of orders placed that day that are pending or paid now: :func:`follow_sale`
  is called where an order's status or total is written — :mod:`boxoffice.orders.transitions` (every
  status move) and :mod:`boxoffice.orders.service` (a new order, a new total);
* **paid** — payments confirmed that day: :func:`add_to_day` is called where a payment becomes
  confirmed (:func:`boxoffice.payments.service.confirm_payment`);
* **refunded** — refunds done that day: called where a refund becomes done
  (:func:`boxoffice.payments.service.mark_refund_done` and an external refund that settles an
  overpayment in :func:`boxoffice.payments.service.create_external_refund`).

A confirmed payment never stops counting (refunded is counted as a refund, not as less paid) and a
done refund never changes, so adding at those moments is the whole story. Each write is an upsert
in the caller's transaction: a rollback (or a rolled-back savepoint) takes it back with the rest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from boxoffice.books.models import MoneyOfDay
from boxoffice.db import dialect_insert
from boxoffice.kit.clock import now
from boxoffice.kit.money import ZERO
from boxoffice.orders.models import Order
from boxoffice.orders.rules import OrderStatus
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import COUNTING_PAYMENT_STATES, RefundState

# Rows per event and day: an order's money goes to slot ``order id % SLOTS``, so concurrent buyers
# of one event lock different rows (a rush would otherwise serialize on one row until each commit).
SLOTS = 16
# Orders whose total counts as sold.
SELLING = frozenset({OrderStatus.PENDING.value, OrderStatus.PAID.value})
FIGURES = ("sold", "paid", "refunded")


def add_to_day(
    session: Session,
    order: Order,
    *,
    moment: datetime,
    sold: Decimal = ZERO,
    paid: Decimal = ZERO,
    refunded: Decimal = ZERO,
) -> None:
    """Add money of ``order`` to its event's figures of ``moment``'s UTC day (one upsert). Test-mode
    orders are no real money: they are left out, as everywhere in the organizer's figures."""
    if not (sold or paid or refunded) or order.test_mode:
        return
    table = MoneyOfDay.__table__
    assert isinstance(table, Table)
    statement = dialect_insert(session, MoneyOfDay).values(
        event_id=order.event_id,
        day=moment.astimezone(UTC).date(),
        slot=order.id % SLOTS,
        sold=sold,
        paid=paid,
        refunded=refunded,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["event_id", "day", "slot"],
        set_={name: table.c[name] + statement.excluded[name] for name in FIGURES},
    )
    session.connection().execute(statement)


def money_per_day(session: Session, event_id: int, since: date) -> dict[date, tuple[Decimal, Decimal, Decimal]]:
    """``day -> (sold, paid, refunded)`` of the event from ``since`` on (days without money left out)."""
    rows = session.execute(
        select(MoneyOfDay.day, func.sum(MoneyOfDay.sold), func.sum(MoneyOfDay.paid), func.sum(MoneyOfDay.refunded))
        .where(MoneyOfDay.event_id == event_id, MoneyOfDay.day >= since)
        .group_by(MoneyOfDay.day)
    ).all()
    return {day: (Decimal(sold), Decimal(paid), Decimal(refunded)) for day, sold, paid, refunded in rows}


def rebuild(session: Session, event_id: int) -> None:
    """Recompute the event's rollup from its orders, payments and refunds (after rows were written
    behind the services' back, e.g. bulk-loaded benchmark data)."""

    def moves(day: Any, sold: Any = 0, paid: Any = 0, refunded: Any = 0) -> Select[Any]:
        figures = (sold, paid, refunded)
        return select(
            func.date(day).label("day"),
            (Order.id % SLOTS).label("slot"),
            *(literal(f) if isinstance(f, int) else f for f in figures),
        )

    sources = union_all(
        moves(Order.created_at, sold=Order.total).where(
            Order.event_id == event_id, Order.status.in_(sorted(SELLING)), Order.test_mode.is_(False)
        ),
        moves(Payment.payment_date, paid=Payment.amount)
        .join(Order, Order.id == Payment.order_id)
        .where(
            Order.event_id == event_id,
            Order.test_mode.is_(False),
            Payment.state.in_(sorted(COUNTING_PAYMENT_STATES)),
            Payment.payment_date.is_not(None),
        ),
        moves(Refund.execution_date, refunded=Refund.amount)
        .join(Order, Order.id == Refund.order_id)
        .where(
            Order.event_id == event_id,
            Order.test_mode.is_(False),
            Refund.state == RefundState.DONE,
            Refund.execution_date.is_not(None),
        ),
    ).subquery()
    day, slot_of, sold, paid, refunded = sources.c
    session.execute(delete(MoneyOfDay).where(MoneyOfDay.event_id == event_id))
    session.execute(
        insert(MoneyOfDay).from_select(
            ["event_id", "day", "slot", *FIGURES],
            select(literal(event_id), day, slot_of, func.sum(sold), func.sum(paid), func.sum(refunded)).group_by(
                day, slot_of
            ),
        )
    )


def follow_sale(
    session: Session, order: Order, *, status_before: str | None, total_before: Decimal | None
) -> None:
    """Move the sold figure after the order's status or total changed from ``status_before`` and
    ``total_before`` (both None: the order is new). Called by the few places that write them:
    ``orders.transitions`` (status), ``orders.service`` (placing an order, a new total)."""
    change = _sold(order.status, order.total) - _sold(status_before, total_before)
    if change:
        add_to_day(session, order, moment=order.created_at or now(), sold=change)


def _sold(status: str | None, total: Decimal | None) -> Decimal:
    return total if status in SELLING and total is not None else ZERO
