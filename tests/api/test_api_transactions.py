"""The request owns its transaction, and commits it before the first byte of the answer leaves."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from boxoffice import db
from boxoffice.catalogue.models import Quota
from boxoffice.orders.models import Order


def test_the_change_is_committed_before_the_response_starts(app: Any, world: Any, database_url: str) -> None:
    seen: list[str] = []

    def status_from_another_connection() -> str:
        with db.unit_of_work(database_url) as session:
            order = session.get(Order, world.order_a)
            assert order is not None
            return order.status

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_after_looking(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A fresh connection sees only committed data, exactly as a second client would.
                seen.append(await run_in_threadpool(status_from_another_connection))
            await send(message)

        await app(scope, receive, send_after_looking)

    with TestClient(probe) as client:
        response = client.post(f"/v1/orders/{world.order_a}/mark-paid", headers=world.headers("staff_x"))
    assert response.status_code == 200
    assert seen == ["paid"]


def test_a_request_refused_after_it_changed_rows_leaves_nothing_behind(api: Any, world: Any, uow: Any) -> None:
    """'free' is refused once the order is placed (its total is known): the seats and the order go."""

    def seats_and_orders() -> tuple[int, int]:
        with uow() as s:
            quota = s.get(Quota, world.shop.quota_id)
            assert quota is not None
            return quota.used, s.execute(select(func.count(Order.id))).scalar_one()

    before = seats_and_orders()
    error = api.post("/v1/orders", 422, doc=world.order_document(mode="free"))["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/payment-mode"}
    assert seats_and_orders() == before
