"""The per-day money rollup follows every move of money in the transaction that makes it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from boxoffice.books import rollup
from boxoffice.books.models import MoneyOfDay
from boxoffice.catalogue.models import Event
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.web.control.queries import daily_totals
from conftest import make_shop

D = Decimal


@pytest.fixture
def shop(uow):  # type: ignore[no-untyped-def]
    """A live event selling for real money (no sandbox, so not in test mode)."""
    with uow() as s:
        return make_shop(s, providers={"manual": {"enabled": True}})


def _place(uow, shop, qty: int = 1) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, qty)], actor="buyer"
        ).id


def _pay(uow, order_id: int) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        payment = payments.start_payment(s, order_id, provider="manual", actor="user:admin")
        payments.confirm_payment(s, payment.id, actor="user:admin")
        return payment.id


def _today(uow, shop) -> tuple[Decimal, Decimal, Decimal]:  # type: ignore[no-untyped-def]
    with uow() as s:
        return rollup.money_per_day(s, shop.event_id, now().date()).get(now().date(), (D(0), D(0), D(0)))


def _rebuilt(uow, shop) -> dict[object, tuple[Decimal, Decimal, Decimal]]:  # type: ignore[no-untyped-def]
    """What the rows say, recomputed from scratch (in a transaction that is rolled back)."""
    with uow() as s:
        kept = rollup.money_per_day(s, shop.event_id, now().date() - timedelta(days=400))
        rollup.rebuild(s, shop.event_id)
        recomputed = rollup.money_per_day(s, shop.event_id, now().date() - timedelta(days=400))
        s.rollback()
    assert kept == recomputed
    return recomputed


def test_sales_payments_and_refunds_land_on_their_day_as_they_happen(uow, shop) -> None:  # type: ignore[no-untyped-def]
    paid_order = _place(uow, shop, 2)
    canceled_order = _place(uow, shop)
    assert _today(uow, shop) == (D("147.00"), D(0), D(0))

    payment_id = _pay(uow, paid_order)
    assert _today(uow, shop) == (D("147.00"), D("98.00"), D(0))

    with uow() as s:
        orders.cancel_order(s, canceled_order, actor="user:admin")
    with uow() as s:
        refund = payments.create_refund(s, payment_id, amount=D("10.00"), actor="user:admin")
    assert _today(uow, shop) == (D("98.00"), D("98.00"), D(0)), "a created refund has moved no money yet"
    with uow() as s:
        payments.mark_refund_done(s, refund.id, actor="user:admin")
    assert _today(uow, shop) == (D("98.00"), D("98.00"), D("10.00"))
    _rebuilt(uow, shop)


def test_expiry_and_reactivation_move_the_sale_of_the_day_it_was_placed(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    placed = now() - timedelta(days=3)
    with uow() as s:
        # Placed three days ago (the sale is moved to that day too, as the rebuild would put it).
        s.execute(update(Order).where(Order.id == order_id).values(created_at=placed, expires_at=now()))
        rollup.rebuild(s, shop.event_id)
    with uow() as s:
        assert orders.expire_order(s, order_id)
    with uow() as s:
        assert rollup.money_per_day(s, shop.event_id, placed.date()).get(placed.date(), (0, 0, 0))[0] == 0
    with uow() as s:
        orders.reactivate_order(s, order_id, actor="user:admin")
    with uow() as s:
        assert rollup.money_per_day(s, shop.event_id, placed.date())[placed.date()][0] == D("49.00")
    _rebuilt(uow, shop)


def test_a_rolled_back_unit_leaves_the_rollup_as_it_was(uow, shop) -> None:  # type: ignore[no-untyped-def]
    order_id = _place(uow, shop)
    with pytest.raises(RuntimeError), uow() as s:
        payment = payments.start_payment(s, order_id, provider="manual", actor="user:admin")
        payments.confirm_payment(s, payment.id, actor="user:admin")
        raise RuntimeError("the request failed after the confirmation")
    assert _today(uow, shop) == (D("49.00"), D(0), D(0))
    with uow() as s:
        assert len(s.scalars(select(MoneyOfDay).where(MoneyOfDay.event_id == shop.event_id)).all()) == 1


def test_the_dashboard_chart_reads_the_last_thirty_days_from_the_rollup(uow, shop) -> None:  # type: ignore[no-untyped-def]
    _pay(uow, _place(uow, shop, 3))
    with uow() as s:
        totals = daily_totals(s, s.get_one(Event, shop.event_id))
    assert len(totals.days) == 30 and totals.days[-1] == now().date()
    assert (totals.sales[-1], totals.payments[-1], totals.refunds[-1]) == (D("147.00"), D("147.00"), D(0))
    assert sum(totals.sales[:-1]) == 0


def test_test_mode_money_stays_out_of_the_rollup(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        test_shop = make_shop(s, slug="rehearsal")
    assert test_shop.event.test_mode
    _pay(uow, _place(uow, test_shop, 2))
    assert _today(uow, test_shop) == (D(0), D(0), D(0))
    assert _rebuilt(uow, test_shop) == {}
