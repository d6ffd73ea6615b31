"""Changing and canceling orders through the API (issue: changing and canceling orders)."""

from __future__ import annotations

from typing import Any

from background import run_jobs  # noqa: F401  (fixture: jobs run right after the request commits)

CARD = "4242424242424242"


def _paid_order(api: Any, world: Any, quantity: int = 2) -> tuple[str, dict[str, str]]:
    placed = api.post("/v1/orders", 201, doc=world.order_document(quantity=quantity))
    order_id = placed["data"]["id"]
    buyer = {"Authorization": f"Bearer {placed['meta']['access-token']}"}
    charged = api.post(f"/v1/orders/{order_id}/charge", 200, doc=world.charge_document(CARD), headers=buyer)
    assert charged["data"]["attributes"]["status"] is True
    return order_id, buyer


def test_adding_a_position_makes_the_difference_owed_then_a_second_payment_pays_it(api, world) -> None:  # type: ignore[no-untyped-def]
    order_id, buyer = _paid_order(api, world)
    admin = world.headers("admin_x")
    # The action's name by the <resource>-<action> rule; the others below use the old `order-changes`.
    doc = {"data": {"type": "order-change", "attributes": {"add": [{"product": str(world.shop.student_id)}]}}}
    changed = api.post(f"/v1/orders/{order_id}/change", 200, doc=doc, headers=admin)
    attrs = changed["data"]["attributes"]
    assert attrs["status"] == "pending" and attrs["pending-sum"] == "19.00" and attrs["total"] == "117.00"
    assert changed["meta"] == {"difference": "19.00", "refund-proposal": []}
    api.post(f"/v1/orders/{order_id}/charge", 200, doc=world.charge_document(CARD), headers=buyer)
    paid = api.get(f"/v1/orders/{order_id}", headers=buyer)["data"]["attributes"]
    assert paid["status"] == "paid" and paid["payment-state"] == "paid"


def test_removing_a_position_proposes_a_refund_executed_through_the_sandbox(api, world) -> None:  # type: ignore[no-untyped-def]
    order_id, _ = _paid_order(api, world)
    admin = world.headers("admin_x")
    positions = api.get(f"/v1/orders/{order_id}/positions", headers=admin)["data"]
    doc = {"data": {"type": "order-changes", "attributes": {"remove": [positions[0]["id"]]}}}
    changed = api.post(f"/v1/orders/{order_id}/change", 200, doc=doc, headers=admin)
    assert changed["data"]["attributes"]["payment-state"] == "overpaid"
    [proposal] = changed["meta"]["refund-proposal"]
    assert proposal["amount"] == "49.00"
    refund = api.post(
        f"/v1/payments/{proposal['payment']}/refund",
        201,
        doc={"data": {"type": "refunds", "attributes": {"amount": proposal["amount"]}}},
        headers=admin,
    )
    assert refund["data"]["attributes"]["state"] == "done"
    after = api.get(f"/v1/orders/{order_id}", headers=admin)["data"]["attributes"]
    assert after["payment-state"] == "paid" and after["pending-sum"] == "0.00"


def test_bad_changes_point_at_the_offending_member_and_change_nothing(api, world) -> None:  # type: ignore[no-untyped-def]
    order_id, _ = _paid_order(api, world, quantity=1)
    admin = world.headers("admin_x")
    position = api.get(f"/v1/orders/{order_id}/positions", headers=admin)["data"][0]["id"]
    for attributes, status, pointer in (
        ({"remove": [position]}, 422, "/data/attributes/remove"),
        ({"set-price": [{"position": position, "price": "-1.00"}]}, 422, "/data/attributes/set-price/0/price"),
        ({"set-price": [{"position": position, "price": 5}]}, 422, "/data/attributes/set-price/0/price"),
        ({"add": [{"product": "999999"}]}, 422, "/data/attributes/add/0/product"),
    ):
        doc = {"data": {"type": "order-changes", "attributes": attributes}}
        errors = api.post(f"/v1/orders/{order_id}/change", status, doc=doc, headers=admin)["errors"]
        assert errors[0]["source"]["pointer"] == pointer, errors
    assert api.get(f"/v1/orders/{order_id}", headers=admin)["data"]["attributes"]["total"] == "49.00"


def test_cancel_with_a_percentage_fee_refunds_the_rest(api, world) -> None:  # type: ignore[no-untyped-def]
    order_id, _ = _paid_order(api, world)
    doc = {"data": {"type": "order-cancel", "attributes": {"cancellation-fee-percent": "10"}}}
    canceled = api.post(
        f"/v1/orders/{order_id}/cancel", 200, doc=doc, headers=world.headers("admin_x"), params={"include": "refunds"}
    )
    assert canceled["data"]["attributes"]["total"] == "9.80"
    assert [r["attributes"]["amount"] for r in canceled["included"] if r["type"] == "refunds"] == ["88.20"]


def test_the_buyer_cancels_their_unpaid_order(api, world) -> None:  # type: ignore[no-untyped-def]
    placed = api.post("/v1/orders", 201, doc=world.order_document())
    buyer = {"Authorization": f"Bearer {placed['meta']['access-token']}"}
    canceled = api.post(f"/v1/orders/{placed['data']['id']}/cancel", 200, headers=buyer)
    assert canceled["data"]["attributes"]["status"] == "canceled"


def test_event_cancellation_runs_as_a_job_with_a_report(api, world, run_jobs) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    _paid_order(api, world, quantity=1)
    admin = world.headers("admin_x")
    # `event-cancel`; the permission matrix still sends the old `event-cancellations`.
    doc = {"data": {"type": "event-cancel", "attributes": {"cancellation-fee": "4.00"}}}
    job = api.post(f"/v1/events/{world.shop.event_id}/cancel", 202, doc=doc, headers=admin)
    assert job["data"]["type"] == "jobs"
    done = api.get(f"/v1/jobs/{job['data']['id']}", headers=admin)["data"]["attributes"]
    assert done["state"] == "done", done
    assert done["result"]["refunded-automatically"] >= 1 and done["result"]["failures"] == []
    orders = api.get("/v1/orders", headers=admin, params={"filter[event]": str(world.shop.event_id)})["data"]
    assert {o["attributes"]["status"] for o in orders} == {"canceled"}
