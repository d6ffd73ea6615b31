"""``POST /v1/orders/{id}/charge``, the Open Event charge, exercised with the sandbox provider."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.accounts.auth import issue_order_token
from boxoffice.kit import clock
from boxoffice.orders.service import LineItem, cancel_order, expire_order, mark_paid, place_order
from boxoffice.payments.models import Payment
from conftest import make_shop

SUCCEEDS, DECLINED, REQUIRES_ACTION = "4242424242424242", "4000000000000002", "4000000000003220"


def _payments(uow: Any, order_id: int) -> list[tuple[str, str]]:
    with uow() as s:
        rows = s.execute(
            select(Payment.provider, Payment.state).where(Payment.order_id == order_id).order_by(Payment.id)
        )
        return [(provider, state) for provider, state in rows]


def test_a_good_card_pays_the_order_and_answers_a_charge_document(api: Any, world: Any, uow: Any) -> None:
    doc = api.post(
        f"/v1/orders/{world.order_a}/charge",
        200,
        doc=world.charge_document(SUCCEEDS),
        headers=world.headers("buyer_a"),
    )
    charge = doc["data"]
    assert charge["type"] == "charge"
    assert charge["attributes"] == {"status": True, "message": "Charge successful."}
    assert charge["relationships"]["order"]["data"] == {"type": "orders", "id": str(world.order_a)}
    order = api.get(f"/v1/orders/{world.order_a}", headers=world.headers("buyer_a"))["data"]["attributes"]
    assert (order["status"], order["payment-state"], order["pending-sum"]) == ("paid", "paid", "0.00")
    assert _payments(uow, world.order_a) == [("sandbox", "confirmed")]


def test_the_plural_type_is_accepted_too(api: Any, world: Any) -> None:
    doc = {"data": {"type": "charges", "attributes": {"sandbox": SUCCEEDS}}}
    api.post(f"/v1/orders/{world.order_a}/charge", 200, doc=doc, headers=world.headers("admin_x"))


def test_a_declined_card_is_422_with_the_providers_message_and_recorded(api: Any, world: Any, uow: Any) -> None:
    error = api.post(
        f"/v1/orders/{world.order_a}/charge",
        422,
        doc=world.charge_document(DECLINED),
        headers=world.headers("buyer_a"),
    )["errors"][0]
    assert (error["code"], error["detail"]) == ("payment-declined", "Your card was declined.")
    api.post(
        f"/v1/orders/{world.order_a}/charge", 200, doc=world.charge_document(SUCCEEDS), headers=world.headers("buyer_a")
    )
    # Every charge is its own attempt: the decline stays on record next to the success.
    assert _payments(uow, world.order_a) == [("sandbox", "failed"), ("sandbox", "confirmed")]


@pytest.mark.parametrize("attributes", [{}, {"sandbox": ""}, {"sandbox": None}, {"stripe": "pm_card_visa"}])
def test_a_missing_token_is_422_pointing_at_the_providers_attribute(
    api: Any, world: Any, uow: Any, attributes: dict[str, Any]
) -> None:
    doc = {"data": {"type": "charge", "attributes": attributes}}
    error = api.post(f"/v1/orders/{world.order_a}/charge", 422, doc=doc, headers=world.headers("buyer_a"))["errors"][0]
    assert error["detail"] == "sandbox token is missing"
    assert error["source"] == {"pointer": "/data/attributes/sandbox"}
    assert _payments(uow, world.order_a) == []


def test_an_unknown_order_is_404_naming_the_id_parameter(api: Any, world: Any) -> None:
    error = api.post(
        "/v1/orders/999999/charge", 404, doc=world.charge_document(SUCCEEDS), headers=world.headers("admin_x")
    )["errors"][0]
    assert error["source"] == {"parameter": "id"}


def _canceled(uow: Any, world: Any) -> None:
    with uow() as s:
        cancel_order(s, world.order_a, actor="test")


def _expired(uow: Any, world: Any) -> None:
    clock.travel(4 * 24 * 3600)
    try:
        with uow() as s:
            expire_order(s, world.order_a)
    finally:
        clock.travel(0)


def _paid(uow: Any, world: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="test")


@pytest.mark.parametrize(
    ("make", "code"), [(_canceled, "order-canceled"), (_expired, "order-expired"), (_paid, "order-paid")]
)
def test_orders_that_cannot_take_money_are_409(api: Any, world: Any, uow: Any, make: Any, code: str) -> None:
    make(uow, world)
    error = api.post(
        f"/v1/orders/{world.order_a}/charge", 409, doc=world.charge_document(SUCCEEDS), headers=world.headers("buyer_a")
    )["errors"][0]
    assert error["code"] == code


def test_a_free_order_is_409(api: Any, uow: Any) -> None:
    with uow() as s:
        shop = make_shop(s, regular="0.00", organizer="freebies")
        items = [LineItem(shop.regular_id, 1)]
        order = place_order(s, shop.event_id, email="f@example.org", items=items, actor="t", payment_mode="sandbox")
        token = issue_order_token(s, order.id, order.code)
    doc = {"data": {"type": "charge", "attributes": {"sandbox": SUCCEEDS}}}
    headers = {"Authorization": f"Bearer {token}"}
    error = api.post(f"/v1/orders/{order.id}/charge", 409, doc=doc, headers=headers)["errors"][0]
    assert error["code"] == "order-free"


def test_a_card_that_needs_confirmation_answers_status_false_with_where_to_confirm(api: Any, world: Any) -> None:
    charge = api.post(
        f"/v1/orders/{world.order_a}/charge",
        200,
        doc=world.charge_document(REQUIRES_ACTION),
        headers=world.headers("buyer_a"),
    )["data"]["attributes"]
    assert charge["status"] is False
    assert "/sandbox/confirm/" in charge["redirect-url"]
    order = api.get(f"/v1/orders/{world.order_a}", headers=world.headers("buyer_a"))["data"]["attributes"]
    assert order["status"] == "pending"


def test_an_order_paid_by_hand_cannot_be_charged(api: Any, world: Any) -> None:
    doc = api.post("/v1/orders", 201, doc=world.order_document(mode="manual"))
    headers = {"Authorization": f"Bearer {doc['meta']['access-token']}"}
    error = api.post(
        f"/v1/orders/{doc['data']['id']}/charge", 409, doc=world.charge_document(SUCCEEDS), headers=headers
    )["errors"][0]
    assert error["code"] == "charge-not-supported"
