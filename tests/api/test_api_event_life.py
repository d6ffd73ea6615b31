"""Contract v1.1 over HTTP: an event's life (live, test-mode), its details, test-mode orders, the
sandbox only in test mode, and the products' sale window and most per order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from boxoffice.activity.models import ActivityEntry


def _patch_event(api: Any, world: Any, status: int, **attributes: Any) -> dict[str, Any]:
    doc = {"data": {"type": "events", "id": str(world.shop.event_id), "attributes": attributes}}
    return api.patch(f"/v1/events/{world.shop.event_id}", status, doc=doc, headers=world.headers("admin_x"))


def test_a_new_event_is_a_draft_with_its_details_and_sells_nothing(api: Any, world: Any) -> None:
    doc = {
        "data": {
            "type": "events",
            "attributes": {
                "name": "Gala", "slug": "gala", "currency": "CHF", "location": "Zürich", "description": "Dinner.",
                "date-from": "2030-10-10T17:00:00Z", "payment-providers": {"manual": {"enabled": True}},
            },
            "relationships": {"organizer": {"data": {"type": "organizers", "id": str(world.organizer_x)}}},
        }
    }
    event = api.post("/v1/events", 201, doc=doc, headers=world.headers("admin_x"))["data"]
    attributes = event["attributes"]
    assert (attributes["live"], attributes["test-mode"], attributes["location"], attributes["description"]) == (
        False, False, "Zürich", "Dinner."
    )
    link = {"data": {"type": "events", "id": event["id"]}}
    product = api.post("/v1/products", 201, headers=world.headers("admin_x"), doc={
        "data": {"type": "products", "attributes": {"name": "Seat", "price": "10.00"}, "relationships": {"event": link}}
    })["data"]
    order = world.order_document(mode="manual", product=int(product["id"]))
    order["data"]["relationships"]["event"] = link
    refused = api.post("/v1/orders", 409, doc=order)["errors"][0]
    assert refused["code"] == "event-not-live"


def test_an_unknown_currency_is_refused_even_when_it_looks_like_one(api: Any, world: Any) -> None:
    doc = {
        "data": {
            "type": "events", "attributes": {"name": "Gala", "slug": "gala", "currency": "ABC"},
            "relationships": {"organizer": {"data": {"type": "organizers", "id": str(world.organizer_x)}}},
        }
    }
    error = api.post("/v1/events", 422, doc=doc, headers=world.headers("admin_x"))["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/currency"}


def test_the_sandbox_is_refused_outside_test_mode_and_never_offered_there(api: Any, world: Any) -> None:
    placed = api.post("/v1/orders", 201, doc=world.order_document())["data"]["attributes"]
    assert placed["test-mode"] is True  # the world's shop uses the sandbox: it is in test mode
    error = _patch_event(api, world, 422, **{"test-mode": False})["errors"][0]
    assert (error["code"], error["source"]) == ("test-mode-only", {"pointer": "/data/attributes/payment-providers"})
    live = _patch_event(api, world, 200, **{"test-mode": False, "payment-providers": {"sandbox": {"enabled": False}}})
    assert live["data"]["attributes"]["test-mode"] is False
    error = _patch_event(api, world, 422, **{"payment-providers": {"sandbox": {"enabled": True}}})["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/payment-providers"}
    real = api.post("/v1/orders", 201, doc=world.order_document(mode="manual"))
    assert real["data"]["attributes"]["test-mode"] is False
    # An order placed in test mode stays a test order.
    old = api.get(f"/v1/orders/{world.order_a}", headers=world.headers("admin_x"))["data"]["attributes"]
    assert old["test-mode"] is True


def test_the_sandbox_takes_no_money_for_an_order_placed_outside_test_mode(api: Any, world: Any, uow: Any) -> None:
    from boxoffice.catalogue.models import Event

    with uow() as s:  # an event switched out of test mode behind the rules' back, the sandbox still on
        s.get(Event, world.shop.event_id).test_mode = False
    placed = api.post("/v1/orders", 201, doc=world.order_document())
    token = placed["meta"]["access-token"]
    refused = api.post(
        f"/v1/orders/{placed['data']['id']}/charge", 422, doc=world.charge_document("4242424242424242"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused["errors"][0]["code"] == "provider-not-allowed"


def test_products_carry_a_description_a_sale_window_and_a_most_per_order(api: Any, world: Any, uow: Any) -> None:
    admin = world.headers("admin_x")
    link = {"data": {"type": "events", "id": str(world.shop.event_id)}}

    def create(status: int, **attributes: Any) -> dict[str, Any]:
        doc = {"data": {"type": "products", "attributes": {"name": "VIP", "price": "5.00", **attributes},
                        "relationships": {"event": link}}}
        return api.post("/v1/products", status, doc=doc, headers=admin)

    assert create(422, **{"max-per-order": 0})["errors"][0]["source"]["pointer"] == "/data/attributes/max-per-order"
    backwards = create(422, **{"available-from": "2030-02-01T00:00:00Z", "available-until": "2030-01-01T00:00:00Z"})
    assert backwards["errors"][0]["source"]["pointer"] == "/data/attributes/available-until"
    later = create(201, **{"available-from": "2099-01-01T00:00:00Z"})["data"]
    vip = create(201, description="Front row.", **{"max-per-order": 2})["data"]
    assert (vip["attributes"]["description"], vip["attributes"]["max-per-order"]) == ("Front row.", 2)
    too_many = api.post("/v1/orders", 422, doc=world.order_document(quantity=3, product=int(vip["id"])))["errors"][0]
    assert (too_many["code"], too_many["source"]["pointer"]) == ("too-many", "/data/attributes/positions/0/quantity")
    early = api.post("/v1/orders", 422, doc=world.order_document(product=int(later["id"])))["errors"][0]
    assert early["code"] == "not-on-sale"
    cleared = api.patch(f"/v1/products/{later['id']}", 200, headers=admin,
                        doc={"data": {"type": "products", "id": later["id"], "attributes": {"available-from": None}}})
    assert cleared["data"]["attributes"]["available-from"] is None
    with uow() as s:
        mine = [f"product:{later['id']}", f"product:{vip['id']}"]
        entries = s.execute(select(ActivityEntry).where(ActivityEntry.subject.in_(mine))).scalars().all()
        assert {(e.action, e.actor) for e in entries} == {
            ("product.created", f"user:admin@{world.name}-x.example"),
            ("product.changed", f"user:admin@{world.name}-x.example"),
        }
