"""Thirty charges of one order at the same moment (real PostgreSQL, real threads): one takes the
money; every other one is told the order is paid or a payment is in progress — never a bad amount."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment
from components import postgres_url

SUCCEEDS = "4242424242424242"


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres-concurrency")
def test_30_concurrent_charges_of_one_order_take_the_money_once_and_answer_409_otherwise(
    app: Any, world: Any, uow: Any
) -> None:
    postgres_url()
    barrier = Barrier(30)

    def charge(_: int) -> tuple[int, str]:
        client = TestClient(app, raise_server_exceptions=False)
        barrier.wait()
        response = client.post(
            f"/v1/orders/{world.order_a}/charge",
            json=world.charge_document(SUCCEEDS),
            headers={"Content-Type": "application/vnd.api+json", **world.headers("buyer_a")},
        )
        body = response.json()
        if response.status_code == 200:
            return 200, "charged" if body["data"]["attributes"]["status"] else "not-charged"
        return response.status_code, body["errors"][0]["code"]

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = Counter(pool.map(charge, range(30)))

    assert answers[(200, "charged")] == 1, answers
    assert set(answers) <= {(200, "charged"), (409, "order-paid"), (409, "payment-in-progress")}, answers
    with uow() as s:
        states = Counter(s.scalars(select(Payment.state).where(Payment.order_id == world.order_a)))
        assert states == {"confirmed": 1}
        assert s.get(Order, world.order_a).status == "paid"
