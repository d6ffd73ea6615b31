"""Racing confirmations on real PostgreSQL: exactly one "paid" mail reaches the SMTP server."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import select

from boxoffice.mail.models import Mail
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from conftest import make_shop

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres-concurrency")]


def test_20_concurrent_confirmations_send_exactly_one_paid_mail(pg, uow, run_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="buyer@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        payment = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        code = order.code
    barrier = Barrier(20)

    def confirm(_: int) -> str:
        barrier.wait()
        with uow() as s:
            return payments.confirm_payment(s, payment.id, actor="webhook").outcome.value

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = Counter(pool.map(confirm, range(20)))
    assert outcomes == {"order-paid": 1, "already-confirmed": 19}
    assert Counter(smtp.subjects()) == {f"Your order {code} for conf EUR": 1, f"Order {code} is paid": 1}
    with uow() as s:
        assert [(m.template, m.state) for m in s.scalars(select(Mail).where(Mail.template == "order-paid"))] == [
            ("order-paid", "sent")
        ]


def test_ten_transactions_queueing_the_same_mail_at_once_queue_it_once(pg, uow, run_jobs, smtp) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.mail.service import queue_mail

    with uow() as s:
        shop = make_shop(s)
        organizer_id = shop.event.organizer_id
    barrier = Barrier(10)

    def queue(_: int) -> int | None:
        with uow() as s:
            barrier.wait()
            return queue_mail(
                s,
                template="unmatched-transfer",
                about=f"organizer:{organizer_id}",
                cause="transaction:tx-1",
                organizer_id=organizer_id,
                recipients=["boss@acme.example"],
                context={"amount": "5.00", "currency": "EUR", "reference": None, "payer": None, "booked_on": None},
            )

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(queue, range(10)))
    assert len([i for i in ids if i is not None]) == 1
    assert smtp.subjects() == ["Bank transfer of 5.00 EUR matches no order"]
