"""Concurrency on real PostgreSQL: real threads, each with its own connection and transaction."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier
from threading import Event as Signal

import pytest
from sqlalchemy import func, select

from boxoffice.catalogue.models import Quota
from boxoffice.errors import QuotaExceeded
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order, OrderFee
from boxoffice.orders.repository import lock_order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from components import postgres_url
from conftest import make_shop

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres-concurrency")]


@pytest.fixture
def pg(database_url: str) -> str:
    postgres_url()
    if not database_url.startswith("postgresql"):
        pytest.fail("BOXOFFICE_TEST_DATABASE_URL is set but the test database is not PostgreSQL")
    return database_url


def test_200_concurrent_placements_against_a_quota_of_50_sell_exactly_50(pg, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=50)
    barrier = Barrier(20)

    def buy(i: int) -> str:
        if i < 20:
            barrier.wait()
        try:
            with uow() as s:
                orders.place_order(
                    s,
                    shop.event_id,
                    email=f"b{i}@example.org",
                    items=[LineItem(shop.regular_id if i % 2 else shop.student_id, 1)],
                    actor="buyer",
                )
            return "sold"
        except QuotaExceeded:
            return "sold-out"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = Counter(pool.map(buy, range(200)))
    assert outcomes == {"sold": 50, "sold-out": 150}
    with uow() as s:
        assert s.scalar(select(func.count(Order.id))) == 50
        assert s.get(Quota, shop.quota_id).used == 50


def test_20_concurrent_confirmations_of_one_payment_confirm_once(pg, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        payment = payments.start_payment(s, order.id, provider="manual", actor="buyer")
    barrier = Barrier(20)

    def confirm(_: int) -> str:
        barrier.wait()
        with uow() as s:
            return payments.confirm_payment(s, payment.id, actor="webhook").outcome.value

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = Counter(pool.map(confirm, range(20)))
    assert outcomes == {"order-paid": 1, "already-confirmed": 19}
    with uow() as s:
        actions = Counter(s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order.id)))
        assert actions["order.paid"] == 1 and actions["payment.confirmed"] == 1
        assert s.get(Order, order.id).payment_state == "paid"


def test_two_payments_of_one_order_confirmed_at_once_give_the_right_balance(pg, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 2)], actor="buyer"
        )
        first = payments.start_payment(s, order.id, provider="manual", actor="buyer", amount=Decimal("60.00"))
        second = payments.start_payment(s, order.id, provider="manual", actor="buyer", amount=Decimal("38.00"))
    barrier = Barrier(2)

    def confirm(payment_id: int) -> str:
        barrier.wait()
        with uow() as s:
            return payments.confirm_payment(s, payment_id, actor="webhook").outcome.value

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(confirm, [first.id, second.id]))
    assert outcomes == ["order-paid", "partial"]
    with uow() as s:
        stored = s.get(Order, order.id)
        assert stored.status == "paid" and stored.payment_total == Decimal("98.00") and stored.pending_sum == 0


def test_concurrent_expiry_releases_quota_exactly_once(pg, uow) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from boxoffice.kit.clock import now

    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 4)], actor="buyer"
        )
        order.expires_at = now() - timedelta(seconds=1)
    barrier = Barrier(8)

    def expire(_: int) -> bool:
        barrier.wait()
        with uow() as s:
            return orders.expire_order(s, order.id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(expire, range(8)))
    assert results.count(True) == 1
    with uow() as s:
        assert s.get(Quota, shop.quota_id).used == 0


def test_an_order_locked_with_its_fees_after_a_wait_sees_the_fees_committed_meanwhile(pg, uow) -> None:  # type: ignore[no-untyped-def]
    # Joined into the locking SELECT, the fee lines would come from the statement's snapshot, taken
    # before the wait: PostgreSQL re-reads only the locked row. Read after the lock, they are current.
    with uow() as s:
        shop = make_shop(s)
        order_id = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        ).id
    holding, waiting = Signal(), Signal()

    def add_fee_while_holding_the_lock() -> None:
        with uow() as s:
            lock_order(s, order_id)
            s.add(OrderFee(order_id=order_id, fee_type="service", description="Service", value=Decimal("2.00")))
            s.flush()
            holding.set()
            waiting.wait(timeout=10)

    def lock_with_fees() -> list[str]:
        holding.wait(timeout=10)
        with uow() as s:
            return [fee.fee_type for fee in lock_order(s, order_id, with_fees=True).fees]

    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = pool.submit(add_fee_while_holding_the_lock)
        reader = pool.submit(lock_with_fees)
        holding.wait(timeout=10)
        time.sleep(0.5)  # the reader's SELECT … FOR UPDATE is now waiting for the writer's lock
        waiting.set()
        writer.result(timeout=10)
        assert reader.result(timeout=10) == ["service"]
