"""The catalogue over HTTP: events with their providers and settings, products and quotas."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.catalogue.rules import merge_settings
from boxoffice.errors import InvalidValue


def _event_doc(organizer_id: int, **attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "events",
            "attributes": {"name": "Summit", "slug": "summit", "currency": "JPY", **attributes},
            "relationships": {"organizer": {"data": {"type": "organizers", "id": str(organizer_id)}}},
        }
    }


def test_an_admin_builds_an_event_that_sells(api: Any, world: Any) -> None:
    admin = world.headers("admin_x")
    providers = {"sandbox": {"enabled": True, "fee-abs": "100"}}
    event = api.post(
        "/v1/events",
        201,
        # Selling needs a live event; the sandbox needs test mode (contract v1.1).
        doc=_event_doc(
            world.organizer_x, timezone="Asia/Tokyo", live=True, **{"payment-providers": providers, "test-mode": True}
        ),
        headers=admin,
    )["data"]
    assert event["attributes"]["payment-providers"]["sandbox"]["enabled"] is True
    link = {"data": {"type": "events", "id": event["id"]}}
    quota = api.post(
        "/v1/quotas",
        201,
        doc={"data": {"type": "quotas", "attributes": {"name": "Hall", "size": 2}, "relationships": {"event": link}}},
        headers=admin,
    )["data"]
    product = api.post(
        "/v1/products",
        201,
        doc={
            "data": {
                "type": "products",
                "attributes": {"name": "Seat", "price": "1500"},
                "relationships": {"event": link, "quotas": {"data": [{"type": "quotas", "id": quota["id"]}]}},
            }
        },
        headers=admin,
    )["data"]
    assert product["attributes"]["price"] == "1500"
    order = world.order_document(quantity=2, product=int(product["id"]))
    order["data"]["relationships"]["event"]["data"]["id"] = event["id"]
    placed = api.post("/v1/orders", 201, doc=order)["data"]["attributes"]
    assert (placed["currency"], placed["total"], placed["test-mode"]) == ("JPY", "3000", True)
    quotas = api.get(f"/v1/events/{event['id']}/quotas", headers=admin)["data"]
    assert [(q["attributes"]["used"], q["attributes"]["available"]) for q in quotas] == [(2, 0)]
    products = api.get(f"/v1/events/{event['id']}/products", headers=world.headers("staff_x"))["data"]
    assert [p["relationships"]["quotas"]["data"] for p in products] == [[{"type": "quotas", "id": quota["id"]}]]


def test_a_product_links_only_quotas_of_its_event(api: Any, world: Any) -> None:
    admin = world.headers("admin_x")
    other = api.post("/v1/events", 201, doc=_event_doc(world.organizer_x), headers=admin)["data"]
    doc = {
        "data": {
            "type": "products",
            "attributes": {"name": "Seat", "price": "1"},
            "relationships": {
                "event": {"data": {"type": "events", "id": other["id"]}},
                "quotas": {"data": [{"type": "quotas", "id": str(world.shop.quota_id)}]},
            },
        }
    }
    error = api.post("/v1/products", 404, doc=doc, headers=admin)["errors"][0]
    assert error["source"] == {"pointer": "/data/relationships/quotas/data/0/id"}


def test_provider_secrets_are_write_only_and_kept_when_left_out(api: Any, world: Any) -> None:
    admin = world.headers("admin_x")
    url = f"/v1/events/{world.shop.event_id}"

    def patch(attributes: dict[str, Any]) -> dict[str, Any]:
        doc = {"data": {"type": "events", "id": str(world.shop.event_id), "attributes": attributes}}
        return api.patch(url, 200, doc=doc, headers=admin)["data"]["attributes"]

    stripe = {"enabled": True, "secret-key": "sk_test_123", "publishable-key": "pk_test_123"}
    shown = patch({"payment-providers": {"stripe": stripe}})["payment-providers"]["stripe"]
    assert "secret-key" not in shown and shown["secrets-set"] == ["secret-key"]
    shown = patch({"payment-providers": {"stripe": {"fee-percent": "1.5"}}})["payment-providers"]
    assert shown["stripe"]["secrets-set"] == ["secret-key"] and shown["stripe"]["fee-percent"] == "1.5"
    assert shown["sandbox"]["enabled"] is True  # providers left out keep their settings


def test_settings_change_one_by_one_and_null_removes_one(api: Any, world: Any) -> None:
    admin = world.headers("admin_x")
    url = f"/v1/events/{world.shop.event_id}"

    def patch(settings: dict[str, Any]) -> dict[str, Any]:
        doc = {"data": {"type": "events", "id": str(world.shop.event_id), "attributes": {"settings": settings}}}
        return api.patch(url, 200, doc=doc, headers=admin)["data"]["attributes"]["settings"]

    assert patch({"expiry-minutes": 30, "late-payment-policy": "refund"}) == {
        "expiry-minutes": 30,
        "late-payment-policy": "refund",
    }
    assert patch({"expiry-minutes": None}) == {"late-payment-policy": "refund"}


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"expiry-days": 366}, "/data/attributes/settings/expiry-days"),
        ({"expiry-skip-weekends": "yes"}, "/data/attributes/settings/expiry-skip-weekends"),
        ({"last-payment-date": "2030-01-01"}, "/data/attributes/settings/last-payment-date"),
        ({"buyer-cancel-fee-abs": "0.001"}, "/data/attributes/settings/buyer-cancel-fee-abs"),
        ({"buyer-cancel-fee-percent": "101"}, "/data/attributes/settings/buyer-cancel-fee-percent"),
        ({"change-underpaid-policy": "ignore"}, "/data/attributes/settings/change-underpaid-policy"),
        ({"late-payment-policy": "keep"}, "/data/attributes/settings/late-payment-policy"),
        ({"expiry-reminder-hours": -1}, "/data/attributes/settings/expiry-reminder-hours"),
    ],
)
def test_settings_refuse_values_their_readers_could_not_use(changes: dict[str, Any], pointer: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        merge_settings({}, changes, "EUR")
    assert refused.value.pointer == pointer


def test_settings_accept_what_their_readers_use() -> None:
    good = {
        "expiry-minutes": 90,
        "expiry-days": 0,
        "expiry-skip-weekends": True,
        "last-payment-date": "2030-01-01T00:00:00+01:00",
        "expiry-reminder-hours": 0,
        "late-payment-policy": "ask",
        "payment-fee-refundable": False,
        "buyer-cancel-unpaid": True,
        "buyer-cancel-paid": False,
        "buyer-cancel-deadline": "2030-01-01T00:00:00Z",
        "buyer-cancel-fee-abs": "5.00",
        "buyer-cancel-fee-percent": "10",
        "change-underpaid-policy": "keep-paid",
    }
    assert merge_settings({}, good, "EUR") == good


def test_a_quota_grows_or_becomes_unlimited_but_never_below_its_taken_seats(api: Any, world: Any) -> None:
    admin = world.headers("admin_x")
    url = f"/v1/quotas/{world.shop.quota_id}"

    def size(value: int | None, status: int = 200) -> dict[str, Any]:
        doc = {"data": {"type": "quotas", "id": str(world.shop.quota_id), "attributes": {"size": value}}}
        return api.patch(url, status, doc=doc, headers=admin)

    assert size(2)["data"]["attributes"]["available"] == 0  # orders A and B hold one seat each
    assert size(None)["data"]["attributes"]["available"] is None
    assert size(1, 409)["errors"][0]["code"] == "quota-in-use"


def test_lists_show_each_organizer_its_own_catalogue(api: Any, world: Any) -> None:
    mine = api.get("/v1/events", headers=world.headers("staff_x"))["data"]
    assert [e["id"] for e in mine] == [str(world.shop.event_id)]
    assert api.get("/v1/events", headers=world.headers("admin_y"))["data"] == []
    organizers = api.get("/v1/organizers", headers=world.headers("admin_y"))["data"]
    assert [o["id"] for o in organizers] == [str(world.organizer_y)]
    filtered = api.get(
        "/v1/events", headers=world.headers("admin_x"), params={"filter[organizer]": str(world.organizer_y)}
    )
    assert filtered["data"] == []
