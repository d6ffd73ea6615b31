"""Outgoing webhooks end to end: signed deliveries to a real local HTTP receiver, retried until accepted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from boxoffice.catalogue.models import Organizer
from boxoffice.errors import Conflict
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.outbox import runner
from boxoffice.payments import service as payments
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.models import WebhookAttempt, WebhookDelivery
from boxoffice.webhooks.rules import verify_signature
from conftest import make_shop
from fakes.servers import serve_asgi


@dataclass
class Receiver:
    """A webhook receiver that answers with ``statuses`` in turn (then 200) and keeps what it got."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> PlainTextResponse:
        self.received.append((dict(request.headers), await request.body()))
        status = self.statuses.pop(0) if self.statuses else 200
        return PlainTextResponse("nope" if status >= 300 else "thanks", status_code=status)

    def documents(self) -> list[dict[str, object]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver(allow_loopback: None) -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hooks", receiver.endpoint, methods=["POST"])])
    with serve_asgi(app) as base:
        receiver.url = f"{base}/hooks"
        yield receiver


def _setup(uow, url: str, event_types: list[str]):  # type: ignore[no-untyped-def]
    with uow() as s:
        shop = make_shop(s)
        endpoint = webhooks.create_endpoint(s, shop.event.organizer_id, url=url, event_types=event_types)
        return shop, endpoint.id, endpoint.secret


def _deliveries(uow) -> list[WebhookDelivery]:  # type: ignore[no-untyped-def]
    with uow() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_flaky_receiver_gets_the_signed_event_retried_until_it_accepts(uow, run_jobs, receiver, travel) -> None:  # type: ignore[no-untyped-def]
    shop, _, secret = _setup(uow, receiver.url, ["order.paid"])
    receiver.statuses = [500, 500]
    with uow() as s:
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        payment = payments.start_payment(s, order.id, provider="manual", actor="buyer")
        payments.confirm_payment(s, payment.id, actor="user:admin")
        order_id, code = order.id, order.code
    assert len(receiver.received) == 1
    [delivery] = _deliveries(uow)
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("pending", 1, 500)

    travel(31)
    runner.sweep()
    assert len(receiver.received) == 2
    travel(61)
    runner.sweep()
    assert len(receiver.received) == 3
    [delivery] = _deliveries(uow)
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)

    documents = receiver.documents()
    assert len({d["id"] for d in documents}) == 1, "every attempt carries the same event id"
    for headers, body in receiver.received:
        timestamp = int(headers["boxoffice-signature"].split(",")[0].removeprefix("t="))
        assert verify_signature(secret, headers["boxoffice-signature"], body, now_ts=timestamp)
        assert headers["content-type"] == "application/json"
    document = documents[-1]
    assert set(document) == {"id", "type", "created", "data"}
    assert document["type"] == "order.paid" and str(document["id"]).startswith("evt_")
    data = document["data"]
    assert isinstance(data, dict) and data["type"] == "orders" and data["id"] == str(order_id)
    assert data["attributes"]["code"] == code
    assert data["attributes"]["status"] == "paid" and data["attributes"]["payment-state"] == "paid"
    assert data["attributes"]["total"] == "49.00"
    with uow() as s:
        log = [(a.number, a.response_status) for a in s.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id))]
    assert log == [(1, 500), (2, 500), (3, 200)]


def test_only_subscribed_event_types_of_the_organizers_own_orders_are_sent(uow, run_jobs, receiver) -> None:  # type: ignore[no-untyped-def]
    shop, _, _ = _setup(uow, receiver.url, ["payment.confirmed"])
    with uow() as s:
        other = make_shop(s, organizer="someone-else", slug="other")
        for event_id, product_id in ((shop.event_id, shop.regular_id), (other.event_id, other.regular_id)):
            order = orders.place_order(
                s, event_id, email="b@example.org", items=[LineItem(product_id, 1)], actor="buyer"
            )
            payment = payments.start_payment(s, order.id, provider="manual", actor="buyer", amount=Decimal("10.00"))
            payments.confirm_payment(s, payment.id, actor="user:admin")
    [document] = receiver.documents()
    assert document["type"] == "payment.confirmed"
    data = document["data"]
    assert isinstance(data, dict) and data["type"] == "payments"
    assert data["attributes"]["amount"] == "10.00" and data["attributes"]["state"] == "confirmed"


def test_a_delivery_nobody_accepts_for_three_days_fails_and_can_be_redelivered(uow, run_jobs, receiver, travel) -> None:  # type: ignore[no-untyped-def]
    _setup(uow, receiver.url, ["order.placed"])
    receiver.statuses = [503] * 100
    with uow() as s:
        shop_event = make_shop(s, organizer="acme", slug="second")
        orders.place_order(
            s, shop_event.event_id, email="b@example.org", items=[LineItem(shop_event.regular_id, 1)], actor="buyer"
        )
    for _ in range(40):
        travel(6 * 3600)
        runner.sweep()
    [delivery] = _deliveries(uow)
    assert delivery.state == "failed" and delivery.next_attempt_at is None
    attempts = delivery.attempts
    assert len(receiver.received) == attempts
    assert delivery.give_up_at - delivery.created_at == webhooks.RETRY_WINDOW

    receiver.statuses = []
    with uow() as s:
        webhooks.redeliver(s, delivery.id)
    [delivery] = _deliveries(uow)
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", attempts + 1, 200)


def test_a_disabled_endpoint_gets_nothing_and_cannot_be_redelivered_to(uow, run_jobs, receiver) -> None:  # type: ignore[no-untyped-def]
    shop, endpoint_id, _ = _setup(uow, receiver.url, ["order.placed"])
    with uow() as s:
        orders.place_order(s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="x")
    with uow() as s:
        webhooks.update_endpoint(s, endpoint_id, shop.event.organizer_id, {"enabled": False})
    with uow() as s:
        orders.place_order(s, shop.event_id, email="c@example.org", items=[LineItem(shop.regular_id, 1)], actor="x")
    assert len(receiver.received) == 1
    [delivery] = _deliveries(uow)
    with uow() as s, pytest.raises(Conflict):
        webhooks.redeliver(s, delivery.id)


def test_events_of_a_rolled_back_change_are_never_delivered(uow, run_jobs, receiver) -> None:  # type: ignore[no-untyped-def]
    shop, _, _ = _setup(uow, receiver.url, ["order.placed"])
    with pytest.raises(RuntimeError), uow() as s:
        orders.place_order(s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="x")
        raise RuntimeError("the request fails after placing the order")
    assert receiver.received == [] and _deliveries(uow) == []


def test_the_organizer_row_counts_its_enabled_endpoints_so_orders_of_an_organizer_without_any_look_for_none(  # type: ignore[no-untyped-def]
    uow, run_jobs, receiver
) -> None:
    def count(organizer_id: int) -> int:
        with uow() as s:
            organizer = s.get(Organizer, organizer_id)
            assert organizer is not None
            return organizer.enabled_webhooks

    shop, first, _ = _setup(uow, receiver.url, ["order.placed"])
    organizer_id = shop.event.organizer_id
    with uow() as s:
        second = webhooks.create_endpoint(s, organizer_id, url=receiver.url, event_types=["order.paid"]).id
    assert count(organizer_id) == 2
    with uow() as s:
        webhooks.update_endpoint(s, first, organizer_id, {"enabled": False})
    assert count(organizer_id) == 1
    with uow() as s:
        webhooks.delete_endpoint(s, second, organizer_id)
    assert count(organizer_id) == 0
    with uow() as s:
        orders.place_order(s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="x")
    assert _deliveries(uow) == [] and receiver.received == []
    with uow() as s:
        webhooks.update_endpoint(s, first, organizer_id, {"enabled": True})
    with uow() as s:
        orders.place_order(s, shop.event_id, email="c@example.org", items=[LineItem(shop.regular_id, 1)], actor="x")
    assert count(organizer_id) == 1 and len(receiver.received) == 1
