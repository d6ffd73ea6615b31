"""Orders over HTTP: placing one, the buyer token, reading with includes and sparse fieldsets, the
organizer's filtered list, and the order actions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from tests.api.test_api_statements import counting

from boxoffice.catalogue.models import Quota
from boxoffice.kit import clock
from boxoffice.orders.models import Order
from boxoffice.orders.service import expire_order, mark_paid
from boxoffice.payments import service as payments
from boxoffice.payments.models import Refund


def _available(uow: Any, quota_id: int) -> int | None:
    with uow() as s:
        quota = s.get(Quota, quota_id)
        assert quota is not None
        return quota.available


def secret(uow: Any, order_id: str) -> str:
    with uow() as s:
        order = s.get(Order, int(order_id))
        assert order is not None
        return order.secret


def test_anyone_places_an_order_and_its_token_opens_that_order_only(api: Any, world: Any, uow: Any) -> None:
    before = _available(uow, world.shop.quota_id)
    response = api.request("POST", "/v1/orders", doc=world.order_document(quantity=3))
    doc = api.expect(response, 201)
    order = doc["data"]
    assert response.headers["Location"] == f"/v1/orders/{order['id']}"
    assert order["attributes"]["status"] == "pending"
    assert order["attributes"]["total"] == order["attributes"]["amount"] == "147.00"
    assert order["attributes"]["payment-state"] == "unpaid"
    assert _available(uow, world.shop.quota_id) == before - 3
    assert doc["meta"]["order-page"].endswith(
        f"/e/acme-x/conf/order/{order['attributes']['code']}/{secret(uow, order['id'])}/"
    )
    token = {"Authorization": f"JWT {doc['meta']['access-token']}"}
    assert api.get(f"/v1/orders/{order['id']}", headers=token)["data"]["id"] == order["id"]
    api.get(f"/v1/orders/{world.order_a}", 404, headers=token)
    api.get("/v1/orders", 403, headers=token)


@pytest.mark.parametrize(
    ("mode", "code"), [("paypal", "provider-not-enabled"), ("bitcoin", "unknown-provider"), ("free", "invalid-value")]
)
def test_the_payment_mode_must_be_an_enabled_provider_of_the_event(
    api: Any, world: Any, uow: Any, mode: str, code: str
) -> None:
    before = _available(uow, world.shop.quota_id)
    error = api.post("/v1/orders", 422, doc=world.order_document(mode=mode))["errors"][0]
    assert error["code"] == code
    assert error["source"] == {"pointer": "/data/attributes/payment-mode"}
    assert _available(uow, world.shop.quota_id) == before


def test_an_unknown_product_or_event_points_at_it(api: Any, world: Any) -> None:
    error = api.post("/v1/orders", 422, doc=world.order_document(product=424242))["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/positions/0/product"}
    doc = world.order_document()
    doc["data"]["relationships"]["event"]["data"]["id"] = "424242"
    error = api.post("/v1/orders", 404, doc=doc)["errors"][0]
    assert error["source"] == {"pointer": "/data/relationships/event/data/id"}


def test_a_sold_out_quota_is_409_and_reserves_nothing(api: Any, world: Any, uow: Any) -> None:
    left = _available(uow, world.shop.quota_id)
    assert left is not None
    error = api.post("/v1/orders", 409, doc=world.order_document(quantity=min(left + 1, 100)))["errors"][0]
    assert error["code"] == "quota-exceeded"
    assert _available(uow, world.shop.quota_id) == left


def test_a_sold_out_answer_names_the_quota_and_writes_nothing(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        quota = s.get(Quota, world.shop.quota_id)
        assert quota is not None
        quota.size = quota.used  # nothing left
        orders_before = len(s.scalars(select(Order.id)).all())
    error = api.post("/v1/orders", 409, doc=world.order_document())["errors"][0]
    assert error["code"] == "quota-exceeded"
    assert error["detail"] == "Not enough tickets left in 'Tickets'."
    assert error["meta"] == {"quota": str(world.shop.quota_id)}
    with uow() as s:
        assert len(s.scalars(select(Order.id)).all()) == orders_before


def test_what_the_order_refuses_first_is_still_refused_first_when_sold_out(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        quota = s.get(Quota, world.shop.quota_id)
        assert quota is not None
        quota.size = quota.used
    api.post("/v1/orders", 401, doc=world.order_document(), headers={"Authorization": "Bearer not-a-token"})
    api.post("/v1/orders", 422, doc=world.order_document(mode="paypal"))
    api.post("/v1/orders", 422, doc=world.order_document(product=424242))
    api.post("/v1/orders", 422, doc=world.order_document(quantity=0))


def test_a_keyed_retry_of_a_placed_order_replays_it_after_the_quota_sold_out(api: Any, world: Any, uow: Any) -> None:
    key = api.new_key()
    first = api.post("/v1/orders", 201, doc=world.order_document(), key=key)
    with uow() as s:
        quota = s.get(Quota, world.shop.quota_id)
        assert quota is not None
        quota.size = quota.used
    again = api.request("POST", "/v1/orders", doc=world.order_document(), key=key)
    assert api.expect(again, 201)["data"]["id"] == first["data"]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    api.post("/v1/orders", 409, doc=world.order_document())


def test_includes_bring_the_related_resources_with_full_linkage(api: Any, world: Any) -> None:
    doc = api.get(
        f"/v1/orders/{world.order_a}",
        headers=world.headers("buyer_a"),
        params={"include": "positions,payments,refunds,event", "fields[orders]": "code,total,positions,event"},
    )
    order = doc["data"]
    assert set(order["attributes"]) == {"code", "total"}
    assert set(order["relationships"]) == {"positions", "event"}
    included = {(r["type"], r["id"]) for r in doc["included"]}
    linked = {(i["type"], i["id"]) for i in order["relationships"]["positions"]["data"]}
    assert linked <= included
    assert ("events", str(world.shop.event_id)) in included


def _orders(api: Any, world: Any, who: str = "staff_x", **params: str) -> list[str]:
    return [o["id"] for o in api.get("/v1/orders", headers=world.headers(who), params=params)["data"]]


def test_the_organizers_list_filters_and_shows_only_its_own_orders(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="test")
    a, b = str(world.order_a), str(world.order_b)
    code = api.get(f"/v1/orders/{world.order_b}", headers=world.headers("staff_x"))["data"]["attributes"]["code"]
    assert set(_orders(api, world)) == {a, b}
    assert _orders(api, world, "admin_y") == []
    assert _orders(api, world, **{"filter[status]": "paid"}) == [a]
    assert _orders(api, world, **{"filter[payment-state]": "unpaid,partially-paid"}) == [b]
    assert _orders(api, world, **{"filter[code]": code.lower()}) == [b]
    assert _orders(api, world, **{"filter[email]": "B@EXAMPLE.ORG"}) == [b]
    assert _orders(api, world, **{"filter[search]": code[:3]}) == [b]
    assert set(_orders(api, world, **{"filter[search]": "a@exa"})) == {a}
    assert set(_orders(api, world, **{"filter[event]": str(world.shop.event_id)})) == {a, b}
    assert _orders(api, world, **{"filter[has-open-refund]": "true"}) == []
    assert _orders(api, world, **{"sort": "created-at"}) == [a, b]
    assert _orders(api, world, **{"sort": "-created-at"}) == [b, a]


def test_filters_find_overpaid_orders_and_open_refunds(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="test")
        extra = payments.start_payment(
            s, world.order_a, provider="manual", actor="t", amount=Decimal("5.00"), allow_settled=True
        )
        payments.confirm_payment(s, extra.id, actor="t")
        payments.create_refund(s, extra.id, amount=Decimal("5.00"), actor="t")
    assert _orders(api, world, **{"filter[has-open-refund]": "true"}) == [str(world.order_a)]
    with uow() as s:
        refund = s.execute(select(Refund)).scalar_one()
        payments.cancel_refund(s, refund.id, actor="t")
    assert _orders(api, world, **{"filter[payment-state]": "overpaid"}) == [str(world.order_a)]


def test_pages_link_to_each_other_and_stay_small(api: Any, world: Any) -> None:
    for _ in range(3):
        api.post("/v1/orders", 201, doc=world.order_document())
    doc = api.get("/v1/orders", headers=world.headers("admin_x"), params={"page[size]": "2"})
    assert len(doc["data"]) == 2 and doc["meta"]["count"] == 5
    assert doc["links"]["next"] == "/v1/orders?page[size]=2&page[number]=2"
    assert doc["links"]["last"] == "/v1/orders?page[size]=2&page[number]=3"
    error = api.get("/v1/orders", 400, headers=world.headers("admin_x"), params={"page[size]": "101"})["errors"][0]
    assert error["source"] == {"parameter": "page[size]"}


def test_mark_paid_records_what_is_left_as_a_confirmed_payment(api: Any, world: Any) -> None:
    order = api.post(
        f"/v1/orders/{world.order_a}/mark-paid",
        200,
        doc={"data": {"type": "order-mark-paid", "attributes": {"provider": "banktransfer"}}},
        headers=world.headers("staff_x"),
        params={"include": "payments"},
    )
    assert order["data"]["attributes"]["status"] == "paid"
    assert [(p["attributes"]["provider"], p["attributes"]["state"]) for p in order["included"]] == [
        ("banktransfer", "confirmed")
    ]
    api.post(f"/v1/orders/{world.order_b}/mark-paid", 200, headers=world.headers("staff_x"))  # an empty body


def test_cancel_keeps_the_fee_and_refunds_the_rest_through_the_provider(api: Any, world: Any) -> None:
    api.post(
        f"/v1/orders/{world.order_a}/charge",
        200,
        doc=world.charge_document("4242424242424242"),
        headers=world.headers("buyer_a"),
    )
    doc = api.post(
        f"/v1/orders/{world.order_a}/cancel",
        200,
        doc={"data": {"type": "order-cancel", "attributes": {"cancellation-fee": "9.00"}}},
        headers=world.headers("admin_x"),
        params={"include": "refunds"},
    )
    order = doc["data"]["attributes"]
    assert (order["status"], order["total"], order["payment-state"], order["pending-sum"]) == (
        "canceled",
        "9.00",
        "paid",
        "0.00",
    )
    assert [(r["attributes"]["amount"], r["attributes"]["state"]) for r in doc["included"]] == [("40.00", "done")]


def test_cancel_without_refund_leaves_the_money_owed_back(api: Any, world: Any, uow: Any) -> None:
    with uow() as s:
        mark_paid(s, world.order_a, actor="test")
    order = api.post(
        f"/v1/orders/{world.order_a}/cancel",
        200,
        doc={"data": {"type": "order-cancel", "attributes": {"refund": False}}},
        headers=world.headers("admin_x"),
    )["data"]["attributes"]
    assert (order["status"], order["payment-state"], order["pending-sum"]) == ("canceled", "underpaid", "-49.00")


def test_extend_and_reactivate_set_new_deadlines(api: Any, world: Any, uow: Any) -> None:
    deadline = (clock.now() + timedelta(days=10)).replace(microsecond=0)
    body = {"data": {"type": "order-extend", "attributes": {"expires-at": deadline.isoformat()}}}
    order = api.post(f"/v1/orders/{world.order_a}/extend", 200, doc=body, headers=world.headers("staff_x"))
    assert order["data"]["attributes"]["expires-at"] == deadline.isoformat().replace("+00:00", "Z")
    past = {"data": {"type": "order-extend", "attributes": {"expires-at": "2001-01-01T00:00:00Z"}}}
    api.post(f"/v1/orders/{world.order_a}/extend", 422, doc=past, headers=world.headers("staff_x"))
    api.post(f"/v1/orders/{world.order_b}/reactivate", 409, headers=world.headers("staff_x"))  # not expired
    clock.travel(4 * 24 * 3600)
    try:
        with uow() as s:
            expire_order(s, world.order_b)
        order = api.post(f"/v1/orders/{world.order_b}/reactivate", 200, headers=world.headers("staff_x"))
    finally:
        clock.travel(0)
    assert order["data"]["attributes"]["status"] == "pending"


def test_audit_entries_name_who_did_what(api: Any, world: Any) -> None:
    api.post(f"/v1/orders/{world.order_a}/mark-paid", 200, headers=world.headers("staff_x"))
    entries = api.get(f"/v1/orders/{world.order_a}/audit-entries", headers=world.headers("admin_x"))["data"]
    assert ("order.paid", "user:staff@acme-x.example") in {
        (e["attributes"]["action"], e["attributes"]["actor"]) for e in entries
    }


def test_a_sold_out_answer_repeated_within_a_second_runs_no_sql(
    api: Any, world: Any, uow: Any, database_url: str
) -> None:
    with uow() as s:
        quota = s.get(Quota, world.shop.quota_id)
        assert quota is not None
        quota.size = quota.used
    first = api.post("/v1/orders", 409, doc=world.order_document())
    with counting(database_url) as count:
        again = api.post("/v1/orders", 409, doc=world.order_document())
    assert again == first
    assert count.statements == 0
    # Another quantity, payment mode or event is looked at afresh.
    api.post("/v1/orders", 422, doc=world.order_document(mode="paypal"))
