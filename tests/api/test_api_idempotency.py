"""``Idempotency-Key``: one key, one use case run — replayed for the same request, refused for another,
409 while the first is still running, free again after a day; scoped to the caller."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from boxoffice.api import rules
from boxoffice.api.models import IdempotencyKey
from boxoffice.kit import clock
from boxoffice.orders import service as order_service
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment


def _count(uow: Any, model: type[Order] | type[Payment]) -> int:
    with uow() as s:
        return s.execute(select(func.count(model.id))).scalar_one()


def test_the_same_request_is_answered_once_and_replayed(api: Any, world: Any, uow: Any) -> None:
    before = _count(uow, Order)
    first = api.request("POST", "/v1/orders", doc=world.order_document(), key="k-1")
    again = api.request("POST", "/v1/orders", doc=world.order_document(), key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _count(uow, Order) == before + 1


def test_another_request_with_a_used_key_is_422(api: Any, world: Any, uow: Any) -> None:
    api.post("/v1/orders", 201, doc=world.order_document(), key="k-2")
    error = api.post("/v1/orders", 422, doc=world.order_document(quantity=2), key="k-2")["errors"][0]
    assert error["code"] == "idempotency-key-reused"
    assert error["source"] == {"header": "Idempotency-Key"}
    api.post(f"/v1/orders/{world.order_b}/mark-paid", 200, headers=world.headers("admin_x"), key="x-2")
    error = api.post(f"/v1/orders/{world.order_a}/mark-paid", 422, headers=world.headers("admin_x"), key="x-2")
    assert error["errors"][0]["code"] == "idempotency-key-reused"


def test_keys_are_scoped_to_the_caller(api: Any, world: Any) -> None:
    doc = world.charge_document("4000000000000002")
    api.post(f"/v1/orders/{world.order_a}/charge", 422, doc=doc, headers=world.headers("buyer_a"), key="same")
    second = api.request(
        "POST", f"/v1/orders/{world.order_a}/charge", doc=doc, headers=world.headers("staff_x"), key="same"
    )
    assert second.status_code == 422 and "Idempotent-Replayed" not in second.headers


def test_a_committed_decline_is_replayed_and_never_charged_again(api: Any, world: Any, uow: Any) -> None:
    doc, headers = world.charge_document("4000000000000002"), world.headers("buyer_a")
    first = api.request("POST", f"/v1/orders/{world.order_a}/charge", doc=doc, headers=headers, key="decline")
    again = api.request("POST", f"/v1/orders/{world.order_a}/charge", doc=doc, headers=headers, key="decline")
    assert (first.status_code, again.status_code) == (422, 422)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert _count(uow, Payment) == 1


def test_an_error_that_changed_nothing_is_not_kept(api: Any, world: Any, uow: Any) -> None:
    doc = {"data": {"type": "charge", "attributes": {}}}  # the token is missing
    headers = world.headers("buyer_a")
    api.post(f"/v1/orders/{world.order_a}/charge", 422, doc=doc, headers=headers, key="nothing")
    again = api.request("POST", f"/v1/orders/{world.order_a}/charge", doc=doc, headers=headers, key="nothing")
    assert again.status_code == 422 and "Idempotent-Replayed" not in again.headers


def _store_key(uow: Any, key: str, doc: dict[str, Any], *, state: str, age: timedelta, lease: timedelta) -> None:
    """A key as an earlier request with ``doc`` left it: running (or dead), or done ``age`` ago."""
    moment = clock.now()
    with uow() as s:
        s.add(
            IdempotencyKey(
                scope=rules.anonymous_scope("testclient"),
                key=key,
                fingerprint=rules.fingerprint("POST", "/v1/orders", "", json.dumps(doc).encode()),
                state=state,
                status_code=201 if state == rules.DONE else None,
                body='{"jsonapi":{"version":"1.1"},"meta":{"old":true}}' if state == rules.DONE else None,
                headers={"content-type": "application/vnd.api+json"},
                created_at=moment - age,
                locked_until=moment + lease,
            )
        )


def test_a_request_still_running_answers_409_with_retry_after(api: Any, world: Any, uow: Any) -> None:
    doc = world.order_document()
    _store_key(uow, "busy", doc, state=rules.IN_PROGRESS, age=timedelta(0), lease=rules.LEASE)
    response = api.request("POST", "/v1/orders", doc=doc, key="busy")
    error = api.expect(response, 409)["errors"][0]
    assert error["code"] == "idempotency-key-in-progress"
    assert response.headers["Retry-After"] == "1"


def test_a_request_that_died_holding_its_key_is_run_again_after_its_lease(api: Any, world: Any, uow: Any) -> None:
    doc = world.order_document()
    _store_key(uow, "dead", doc, state=rules.IN_PROGRESS, age=rules.LEASE * 2, lease=-rules.LEASE)
    response = api.request("POST", "/v1/orders", doc=doc, key="dead")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert api.request("POST", "/v1/orders", doc=doc, key="dead").headers["Idempotent-Replayed"] == "true"


def test_an_anonymous_key_never_replays_another_callers_answer_and_buyer_token(app: Any, world: Any, uow: Any) -> None:
    doc = world.order_document()
    sent = {"Content-Type": "application/vnd.api+json", "Idempotency-Key": "order-1"}
    mine, theirs = (TestClient(app, client=(address, 50000)) for address in ("203.0.113.5", "198.51.100.7"))
    first = mine.post("/v1/orders", json=doc, headers=sent)
    other = theirs.post("/v1/orders", json=doc, headers=sent)
    again = mine.post("/v1/orders", json=doc, headers=sent)
    assert (first.status_code, other.status_code, again.status_code) == (201, 201, 201)
    assert "Idempotent-Replayed" not in other.headers and again.headers["Idempotent-Replayed"] == "true"
    token = first.json()["meta"]["access-token"]
    assert other.json()["meta"]["access-token"] != token and again.json()["meta"]["access-token"] == token
    assert other.json()["data"]["id"] != first.json()["data"]["id"]


def test_after_a_day_the_key_is_free_for_a_new_request(api: Any, world: Any, uow: Any) -> None:
    doc = world.order_document()
    _store_key(uow, "old", doc, state=rules.DONE, age=rules.REPLAY_WINDOW, lease=timedelta(0))
    _store_key(uow, "recent", doc, state=rules.DONE, age=rules.REPLAY_WINDOW - timedelta(minutes=1), lease=timedelta(0))
    assert api.post("/v1/orders", 201, doc=doc, key="old")["data"]["type"] == "orders"
    assert api.post("/v1/orders", 201, doc=doc, key="recent") == {"jsonapi": {"version": "1.1"}, "meta": {"old": True}}


@pytest.mark.parametrize("key", ["", " x", "a key", "tab\tkey", "x" * 256, "ключ"])
def test_a_malformed_key_is_400_pointing_at_the_header(api: Any, world: Any, key: str) -> None:
    response = api.client.post(
        "/v1/orders",
        content=json.dumps(world.order_document()).encode(),
        headers={"Content-Type": "application/vnd.api+json", "Idempotency-Key": key.encode()},
    )
    error = api.expect(response, 400)["errors"][0]
    assert error["source"] == {"header": "Idempotency-Key"}


def test_two_requests_at_once_with_one_key_run_the_use_case_once(
    app: Any, world: Any, uow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = threading.Event()
    place = order_service.place_order

    def slow_place_order(*args: Any, **kwargs: Any) -> Any:
        order = place(*args, **kwargs)
        inside.set()
        time.sleep(0.3)  # the other request arrives while this one holds its key, uncommitted
        return order

    monkeypatch.setattr(order_service, "place_order", slow_place_order)
    before = _count(uow, Order)
    answers: dict[str, Any] = {}

    def send(name: str) -> None:
        with TestClient(app) as client:
            answers[name] = client.post(
                "/v1/orders",
                json=world.order_document(),
                headers={"Content-Type": "application/vnd.api+json", "Idempotency-Key": "race"},
            )

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert inside.wait(10)
    send("second")
    first.join(10)
    assert answers["first"].status_code == answers["second"].status_code == 201
    assert answers["second"].headers["Idempotent-Replayed"] == "true"
    assert answers["second"].content == answers["first"].content
    assert _count(uow, Order) == before + 1
