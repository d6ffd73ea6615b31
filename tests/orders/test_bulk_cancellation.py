"""Bulk cancellation of an event: a resumable job that refunds every order exactly once."""

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now
from boxoffice.orders import bulk, cancellation
from boxoffice.orders.cancellation import FeeRule
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.payments.balance import refresh_balance
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.sandbox.models import SandboxIntent
from conftest import make_shop

D = Decimal
COUNT = 1000


def _paid_orders(uow, shop, count: int) -> None:  # type: ignore[no-untyped-def]
    """Bulk-load paid orders with one confirmed sandbox payment each (fast, through Core inserts)."""
    moment = now()
    with uow() as s:
        ids = (
            s.execute(
                insert(Order).returning(Order.id),
                [
                    dict(
                        event_id=shop.event_id,
                        code=f"B{i:04d}",
                        secret=f"s{i}",
                        email=f"b{i}@example.org",
                        status="paid",
                        total=D("49.00"),
                        expires_at=moment,
                        created_at=moment,
                        holds_quota=False,
                        locale="en",
                        payment_total=D("49.00"),
                        refund_total=D(0),
                        pending_sum=D(0),
                        payment_state="paid",
                        has_open_refund=False,
                    )
                    for i in range(count)
                ],
            )
            .scalars()
            .all()
        )
        s.execute(
            insert(OrderPosition),
            [dict(order_id=i, product_id=shop.regular_id, price=D("49.00"), canceled=False) for i in ids],
        )
        # The sandbox processor's own record of each charge, so refunds really go through it.
        s.execute(
            insert(SandboxIntent),
            [
                dict(
                    intent_id=f"sbx_pi_bulk{i}",
                    idempotency_key=f"bulk-{i}",
                    amount=4900,
                    currency="EUR",
                    status="succeeded",
                    behaviour="succeed",
                    card_brand="visa",
                    card_last4="4242",
                    meta={},
                    created_at=moment,
                )
                for i in ids
            ],
        )
        s.execute(
            insert(Payment),
            [
                dict(
                    order_id=i,
                    local_id=1,
                    provider="sandbox",
                    amount=D("49.00"),
                    state="confirmed",
                    created_at=moment,
                    payment_date=moment,
                    info={},
                    provider_reference=f"sbx_pi_bulk{i}",
                    attempts=0,
                )
                for i in ids
            ],
        )


def test_bulk_cancellation_interrupted_half_way_and_resumed_refunds_everyone_exactly_once(uow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s, size=None)
    _paid_orders(uow, shop, COUNT)
    with uow() as s:
        job = bulk.start_event_cancellation(s, shop.event_id, actor="user:admin", fee_rule=FeeRule(percent=D("10")))
        job_id = job.id
        assert job.total == 1000

    real = cancellation.refunding.execute_refund
    calls = Counter[str]()

    def crash_half_way(session, refund_id, *, actor):  # type: ignore[no-untyped-def]
        calls["execute"] += 1
        if calls["execute"] == 500:
            raise SystemExit("worker killed")
        return real(session, refund_id, actor=actor)

    monkeypatch.setattr(cancellation.refunding, "execute_refund", crash_half_way)
    with pytest.raises(SystemExit):
        bulk.run_event_cancellation({"job_id": job_id})
    with uow() as s:
        assert 0 < s.scalar(select(func.count(Order.id)).where(Order.status == "canceled")) < 1000
        assert s.get(Job, job_id).state == "running"

    monkeypatch.setattr(cancellation.refunding, "execute_refund", real)
    bulk.run_event_cancellation({"job_id": job_id})  # the sweep runs the job again
    with uow() as s:
        assert s.scalar(select(func.count(Order.id)).where(Order.status != "canceled")) == 0
        per_order = Counter(s.scalars(select(Refund.order_id)))
        assert len(per_order) == 1000 and set(per_order.values()) == {1}
        assert set(s.scalars(select(Refund.amount))) == {D("44.10")}
        assert set(s.scalars(select(Refund.state))) == {"done"}
        job = s.get(Job, job_id)
        assert job.state == "done" and job.progress == 1000
        assert job.result["canceled"] == 1000 and job.result["refunded-automatically"] == 1000
        assert job.result["manual-refunds-waiting"] == 0 and job.result["failures"] == []
        for order in s.scalars(select(Order).limit(5)):
            assert refresh_balance(s, order).pending_sum == 0
