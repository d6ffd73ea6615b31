"""Fixtures of the books tests: an event with orders in every money situation, made by the services."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from background import run_jobs  # noqa: F401  (jobs run right after their transaction commits)
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from conftest import make_shop

UnitOfWork = Callable[[], AbstractContextManager[Session]]
ADMIN = "user:admin@acme.example"


@dataclass(frozen=True)
class Sold:
    """Codes of the orders of the ``sold`` event, by the situation each is in."""

    event_id: int
    paid: str  # 2 x Regular, paid, 10.00 refunded
    overpaid: str  # 1 x Student, paid twice
    canceled: str  # 1 x Regular, paid, canceled, refunded in full
    pending: str  # 1 x Student, nothing paid
    all: tuple[str, ...]


class Trade:
    """Selling, paying and refunding as the services do it (a fixture, so test modules can share it)."""

    admin = ADMIN

    @staticmethod
    def sell(session: Session, event_id: int, product_id: int, quantity: int, email: str) -> int:
        items = [LineItem(product_id, quantity)]
        return orders.place_order(session, event_id, email=email, items=items, actor="buyer").id

    @staticmethod
    def pay(
        session: Session, order_id: int, amount: Decimal | None = None, info: dict[str, object] | None = None
    ) -> int:
        payment = payments.start_payment(
            session, order_id, provider="manual", actor=ADMIN, amount=amount, info=info, allow_settled=True
        )
        payments.confirm_payment(session, payment.id, actor=ADMIN)
        return payment.id

    @staticmethod
    def refund(session: Session, payment_id: int, amount: str, comment: str = "goodwill") -> int:
        made = payments.create_refund(session, payment_id, amount=Decimal(amount), actor=ADMIN, comment=comment)
        payments.mark_refund_done(session, made.id, actor=ADMIN)
        return made.id


@pytest.fixture
def trade() -> type[Trade]:
    return Trade


@pytest.fixture
def shop(uow: UnitOfWork):  # type: ignore[no-untyped-def]
    """The books' event sells for real money (no sandbox, so not in test mode): exports leave test-mode
    orders out by default."""
    with uow() as s:
        return make_shop(s, providers={"manual": {"enabled": True}, "banktransfer": {"enabled": True}})


@pytest.fixture
def sold(uow: UnitOfWork, shop) -> Sold:  # type: ignore[no-untyped-def]
    """A committed EUR event with a paid, an overpaid, a canceled-and-refunded and a pending order."""
    from boxoffice.orders.models import Order

    t = Trade
    with uow() as s:
        paid = t.sell(s, shop.event_id, shop.regular_id, 2, "paid@example.org")
        t.refund(s, t.pay(s, paid), "10.00")
        overpaid = t.sell(s, shop.event_id, shop.student_id, 1, "over@example.org")
        t.pay(s, overpaid)
        t.pay(s, overpaid, Decimal("5.00"))
        canceled = t.sell(s, shop.event_id, shop.regular_id, 1, "cancel@example.org")
        payment = t.pay(s, canceled)
        orders.cancel_order(s, canceled, actor=ADMIN)
        t.refund(s, payment, "49.00")
        pending = t.sell(s, shop.event_id, shop.student_id, 1, "pending@example.org")
        codes = {o.id: o.code for o in s.scalars(select(Order))}
    return Sold(
        shop.event_id,
        codes[paid],
        codes[overpaid],
        codes[canceled],
        codes[pending],
        tuple(codes[i] for i in (paid, overpaid, canceled, pending)),
    )


@pytest.fixture
def rehearsed(uow: UnitOfWork, shop, sold: Sold) -> str:  # type: ignore[no-untyped-def]
    """The code of a test-mode order of the ``sold`` event, paid and 5.00 refunded (placed while the
    event was briefly in test mode)."""
    from boxoffice.catalogue.models import Event
    from boxoffice.orders.models import Order

    t = Trade
    with uow() as s:
        event = s.get_one(Event, sold.event_id)
        event.test_mode = True
        order_id = t.sell(s, sold.event_id, shop.regular_id, 1, "rehearsal@example.org")
        t.refund(s, t.pay(s, order_id), "5.00")
        event.test_mode = False
        order = s.get_one(Order, order_id)
        assert order.test_mode
        return order.code
