"""Exports stream: a 100k-order event is exported in about the memory of a 10k-order one."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from boxoffice import db
from boxoffice.books.exports import export_stream
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund

CHUNK = 5000
MiB = 1024 * 1024


def _bulk_orders(session: Session, event_id: int, start: int, count: int) -> None:
    """``count`` paid orders, each with a confirmed payment and every tenth with a done refund,
    written with Core ``insert`` in batches (the services would take minutes for 100k)."""
    moment = now()
    for first in range(start, start + count, CHUNK):
        numbers = range(first, min(first + CHUNK, start + count))
        session.execute(
            insert(Order.__table__),
            [
                {
                    "event_id": event_id,
                    "code": f"B{n:07d}",
                    "secret": f"s{n}",
                    "email": f"buyer{n}@example.org",
                    "status": "paid",
                    "total": Decimal("49.00"),
                    "payment_total": Decimal("49.00"),
                    "refund_total": Decimal("5.00") if n % 10 == 0 else Decimal(0),
                    "pending_sum": Decimal("5.00") if n % 10 == 0 else Decimal(0),
                    "payment_state": "underpaid" if n % 10 == 0 else "paid",
                    "has_open_refund": False,
                    "holds_quota": True,
                    "locale": "en",
                    "expires_at": moment + timedelta(days=3),
                    "created_at": moment,
                    "paid_at": moment,
                }
                for n in numbers
            ],
        )
        ids = session.scalars(
            select(Order.id).where(Order.event_id == event_id, Order.code >= f"B{numbers[0]:07d}").order_by(Order.id)
        ).all()[: len(numbers)]
        session.execute(
            insert(Payment.__table__),
            [
                {
                    "order_id": order_id,
                    "local_id": 1,
                    "provider": "manual",
                    "amount": Decimal("49.00"),
                    "state": "confirmed",
                    "created_at": moment,
                    "payment_date": moment,
                    "info": {},
                    "attempts": 0,
                }
                for order_id in ids
            ],
        )
        payment_ids = session.execute(select(Payment.order_id, Payment.id).where(Payment.order_id.in_(ids))).all()
        session.execute(
            insert(Refund.__table__),
            [
                {
                    "order_id": order_id,
                    "payment_id": payment_id,
                    "local_id": 1,
                    "provider": "manual",
                    "amount": Decimal("5.00"),
                    "state": "done",
                    "source": "admin",
                    "comment": "=SUM(A1:A9)",
                    "created_at": moment,
                    "execution_date": moment,
                    "info": {},
                    "attempts": 0,
                }
                for order_id, payment_id in payment_ids
                if order_id % 10 == 0
            ],
        )


def _peak(run: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _to_null_sink(database_url: str, event_id: int, kind: str, fmt: str) -> Callable[[], int]:
    def run() -> int:
        size = 0
        for chunk in export_stream(db.session_factory(database_url), event_id, kind, fmt):
            size += len(chunk)
        return size

    return run


@pytest.mark.xdist_group("books-memory")
def test_exports_of_a_100k_order_event_run_in_flat_memory(database_url: str, uow, shop) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        _bulk_orders(s, shop.event_id, 0, 10_000)
    # Every writer, each over ten times the rows: orders (one row each) as CSV, refunds (every tenth
    # order) as JSON and XLSX — the widest export and the two other writers, within the time budget.
    exports = [("orders", "csv"), ("refunds", "json"), ("refunds", "xlsx")]
    _to_null_sink(database_url, shop.event_id, "orders", "csv")()  # warm up caches (compiled SQL, imports)
    small = {e: _peak(_to_null_sink(database_url, shop.event_id, *e)) for e in exports}
    with uow() as s:
        _bulk_orders(s, shop.event_id, 10_000, 90_000)
        assert s.scalar(select(func.count(Order.id))) == 100_000
    large = {e: _peak(_to_null_sink(database_url, shop.event_id, *e)) for e in exports}
    for export in exports:
        # Ten times the rows, about the same memory: a batch of rows and a chunk of output.
        assert large[export] < 16 * MiB, (export, large[export])
        assert large[export] < small[export] * 1.5 + 2 * MiB, (export, small[export], large[export])
