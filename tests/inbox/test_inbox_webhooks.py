"""The inbox over HTTP: verify, store once, answer, process by id; replays, retries, the sweep."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from boxoffice.app import create_app
from boxoffice.catalogue.models import Event
from boxoffice.inbox import service as inbox
from boxoffice.inbox.models import ProviderEvent
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import LineItem
from boxoffice.payments import service as payments
from boxoffice.providers.sandbox import callbacks, processor, signing
from conftest import make_shop
from jsonapi_schema import assert_jsonapi


@pytest.fixture
def client(database_url: str) -> TestClient:
    return TestClient(create_app())


def _order(uow: Any, shop: Any) -> tuple[int, str]:
    with uow() as s:
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        return order.id, order.code


def _signed(uow: Any, event_type: str, obj: dict[str, Any], *, key: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    created = int(now().timestamp())
    body = processor.event_body(event_type, obj, created=created)
    with uow() as s:
        key = key or signing.webhook_key(s)
    return body, {"Sandbox-Signature": signing.sign(key, body, created), "Content-Type": "application/json"}


def _succeeded(event_id: int, payment_full_id: str, amount: int = 4900) -> dict[str, Any]:
    return {
        "id": "sbx_pi_test",
        "object": "payment_intent",
        "amount": amount,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {"event": str(event_id), "payment": payment_full_id},
    }


def _events(uow: Any) -> list[tuple[str, str, int]]:
    with uow() as s:
        return [(e.event_type, e.state, e.attempts) for e in s.scalars(select(ProviderEvent).order_by(ProviderEvent.id))]


def _start(uow: Any, order_id: int) -> str:
    with uow() as s:
        payment = payments.start_payment(s, order_id, provider="sandbox", actor="buyer")
        return payment.full_id


def test_a_verified_callback_is_stored_answered_and_processed(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id, _code = _order(uow, shop)
    full_id = _start(uow, order_id)
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, full_id))
    answer = client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"meta": {"received": 1, "duplicates": 0}}
    assert_jsonapi(answer.json())
    assert _events(uow) == [("payment_intent.succeeded", "processed", 1)]
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"
        event = s.scalars(select(ProviderEvent)).one()
        assert event.order_id == order_id and event.detail == f"payment {full_id}: order-paid"


def test_a_replayed_callback_changes_nothing(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id, _code = _order(uow, shop)
    full_id = _start(uow, order_id)
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, full_id))
    client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    with uow() as s:
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
    again = client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["meta"] == {"received": 0, "duplicates": 1}
    assert _events(uow) == [("payment_intent.succeeded", "processed", 1)]
    with uow() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == entries


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, headers: (body, {}),
        lambda body, headers: (body.replace(b"4900", b"9900"), headers),
        lambda body, headers: (body, {"Sandbox-Signature": "t=1,v1=" + "0" * 64}),
    ],
    ids=["unsigned", "altered", "wrong-signature"],
)
def test_a_forged_callback_is_refused_and_nothing_is_stored(uow, shop, client, forge) -> None:  # type: ignore[no-untyped-def]
    order_id, _code = _order(uow, shop)
    full_id = _start(uow, order_id)
    body, headers = forge(*_signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, full_id)))
    answer = client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["code"] == "invalid-signature" and error["status"] == "400"
    assert answer.headers["content-type"].startswith("application/vnd.api+json")
    assert_jsonapi(answer.json())
    assert _events(uow) == []
    with uow() as s:
        assert s.get(Order, order_id).status == "pending"


def test_a_callback_signed_with_another_key_is_refused(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, "X-P-1"), key=b"k" * 32)
    assert client.post("/v1/webhooks/sandbox", content=body, headers=headers).status_code == 400
    assert _events(uow) == []


def test_providers_without_callbacks_and_unknown_ones_answer_404(client) -> None:  # type: ignore[no-untyped-def]
    for provider in ("manual", "nope"):
        answer = client.post(f"/v1/webhooks/{provider}", content=b"{}", headers={"Content-Type": "application/json"})
        assert answer.status_code == 404 and answer.json()["errors"][0]["code"] == "webhooks-not-supported"


def test_an_oversized_body_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.post("/v1/webhooks/sandbox", content=b"x" * 1_000_001)
    assert answer.status_code == 413 and answer.json()["errors"][0]["status"] == "413"


def test_an_event_that_arrives_before_its_payment_is_retried_by_the_sweep(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id, code = _order(uow, shop)
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, f"{code}-P-1"))
    assert client.post("/v1/webhooks/sandbox", content=body, headers=headers).status_code == 200
    assert _events(uow) == [("payment_intent.succeeded", "received", 1)]
    with uow() as s:
        assert "not there yet" in (s.scalars(select(ProviderEvent)).one().last_error or "")
    # Too recent for the sweep: left alone.
    assert inbox.sweep_unprocessed(timedelta(minutes=5), uow=uow) == 0
    _start(uow, order_id)
    assert inbox.sweep_unprocessed(timedelta(0), uow=uow) == 1
    assert _events(uow) == [("payment_intent.succeeded", "processed", 2)]
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"


def test_an_event_that_never_becomes_applicable_fails_after_the_last_attempt(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    _order_id, code = _order(uow, shop)
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, f"{code}-P-7"))
    client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    for _ in range(inbox.MAX_ATTEMPTS):
        inbox.sweep_unprocessed(timedelta(0), uow=uow)
    assert _events(uow) == [("payment_intent.succeeded", "failed", inbox.MAX_ATTEMPTS)]
    with uow() as s:
        assert "gave up after" in (s.scalars(select(ProviderEvent)).one().last_error or "")


def test_an_event_our_rules_refuse_fails_at_once_without_partial_effects(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    order_id, _code = _order(uow, shop)
    full_id = _start(uow, order_id)
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, full_id, amount=-100))
    client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert _events(uow) == [("payment_intent.succeeded", "failed", 1)]
    with uow() as s:
        assert s.get(Order, order_id).status == "pending"
        assert [p.state for p in s.get(Order, order_id).payments] == ["created"]


def test_an_unhandled_event_type_is_stored_and_marked_ignored(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    body, headers = _signed(uow, "customer.created", {"id": "sbx_cus_1", "metadata": {"event": str(shop.event_id)}})
    client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert _events(uow) == [("customer.created", "ignored", 1)]


def test_an_unexpected_error_keeps_the_event_for_the_sweep(uow, shop, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    order_id, _code = _order(uow, shop)
    full_id = _start(uow, order_id)

    def broken(*args: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(callbacks, "_payment_succeeded", broken)
    body, headers = _signed(uow, "payment_intent.succeeded", _succeeded(shop.event_id, full_id))
    assert client.post("/v1/webhooks/sandbox", content=body, headers=headers).status_code == 200
    assert _events(uow) == [("payment_intent.succeeded", "received", 1)]
    monkeypatch.undo()
    assert inbox.sweep_unprocessed(timedelta(0), uow=uow) == 1
    with uow() as s:
        assert s.get(Order, order_id).status == "paid"


def test_the_organizer_lists_only_their_events_with_outcomes(uow, shop, client) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        other = make_shop(s, slug="other", organizer="globex")
    for event_id in (shop.event_id, other.event_id):
        body, headers = _signed(uow, "customer.created", {"id": "c", "metadata": {"event": str(event_id)}})
        client.post("/v1/webhooks/sandbox", content=body, headers=headers)
    with uow() as s:
        organizer_id = s.get(Event, shop.event_id).organizer_id
        mine = inbox.list_events(s, organizer_id)
        assert [e.payload["data"]["object"]["metadata"]["event"] for e in mine] == [str(shop.event_id)]
        assert mine[0].state == "ignored" and "does not act on 'customer.created'" in (mine[0].detail or "")
        assert inbox.list_events(s, organizer_id, states=["processed"]) == []
