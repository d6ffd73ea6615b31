"""The inbox under concurrent duplicates, on real PostgreSQL: real threads, own transactions each."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select

from boxoffice.inbox import service as inbox
from boxoffice.inbox.models import ProviderEvent
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.providers.sandbox import processor, signing
from components import postgres_url
from conftest import make_shop

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres-concurrency")]
DELIVERIES = 8


@pytest.fixture
def pg(database_url: str) -> str:
    postgres_url()
    if not database_url.startswith("postgresql"):
        pytest.fail("BOXOFFICE_TEST_DATABASE_URL is set but the test database is not PostgreSQL")
    return database_url


def test_the_same_event_delivered_concurrently_is_stored_once_and_applied_once(pg, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        payment = payments.start_payment(s, order.id, provider="sandbox", actor="buyer")
        order_id, full_id = order.id, payment.full_id
        key = signing.webhook_key(s)
    obj = {"id": "sbx_pi_1", "amount": 4900, "metadata": {"event": str(shop.event_id), "payment": full_id}}
    created = int(now().timestamp())
    body = processor.event_body("payment_intent.succeeded", obj, created=created)
    headers = {"sandbox-signature": signing.sign(key, body, created)}
    barrier = Barrier(DELIVERIES)

    def deliver(_: int) -> str:
        barrier.wait()
        with uow() as s:
            [received] = inbox.receive(s, "sandbox", headers, body)
        # Every delivery processes what it got, as each HTTP request's background task would.
        inbox.process_event(received.event_id, uow=uow)
        return "stored" if received.new else "duplicate"

    with ThreadPoolExecutor(max_workers=DELIVERIES) as pool:
        outcomes = Counter(pool.map(deliver, range(DELIVERIES)))
    assert outcomes == {"stored": 1, "duplicate": DELIVERIES - 1}
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(ProviderEvent)) == 1
        assert s.scalars(select(ProviderEvent)).one().state == "processed"
        assert s.get(Order, order_id).status == "paid"
        confirmations = s.scalar(
            select(func.count()).where(AuditEntry.order_id == order_id, AuditEntry.action == "payment.confirmed")
        )
        assert confirmations == 1
