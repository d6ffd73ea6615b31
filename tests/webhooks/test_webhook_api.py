"""The webhook resources under /v1: register (secret shown once), read the delivery log, redeliver."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from boxoffice.payments import service as payments
from boxoffice.webhooks.models import WebhookDelivery
from fakes.servers import closed_port_url

ENDPOINTS = "/v1/webhook-endpoints"


def _endpoint_doc(url: str, event_types: list[str], **relationships: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "webhook-endpoints", "attributes": {"url": url, "event-types": event_types}}
    if relationships:
        data["relationships"] = relationships
    return {"data": data}


def test_an_admin_registers_an_endpoint_and_sees_its_secret_only_once(api, world) -> None:  # type: ignore[no-untyped-def]
    created = api.post(
        ENDPOINTS,
        201,
        doc=_endpoint_doc("https://hooks.example.org/in", ["order.paid", "refund.done"]),
        headers=world.headers("admin_x"),
    )["data"]
    attributes = created["attributes"]
    assert attributes["secret"].startswith("whsec_")
    assert attributes["event-types"] == ["order.paid", "refund.done"] and attributes["enabled"] is True
    assert created["relationships"]["organizer"]["data"] == {"type": "organizers", "id": str(world.organizer_x)}

    shown = api.get(f"{ENDPOINTS}/{created['id']}", headers=world.headers("staff_x"))["data"]
    assert "secret" not in shown["attributes"]
    listed = api.get(ENDPOINTS, headers=world.headers("admin_x"))
    assert [e["id"] for e in listed["data"]] == [created["id"]] and "secret" not in listed["data"][0]["attributes"]
    assert api.get(ENDPOINTS, headers=world.headers("admin_y"))["data"] == []
    api.get(f"{ENDPOINTS}/{created['id']}", 404, headers=world.headers("admin_y"))


def test_bad_endpoints_are_refused_with_a_pointer_and_staff_may_not_register(api, world) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin_x")
    bad_type = api.post(ENDPOINTS, 422, doc=_endpoint_doc("https://x.example/h", ["order.eaten"]), headers=admin)
    assert bad_type["errors"][0]["source"]["pointer"] == "/data/attributes/event-types/0"
    bad_url = api.post(ENDPOINTS, 422, doc=_endpoint_doc("ftp://x.example/h", ["order.paid"]), headers=admin)
    assert bad_url["errors"][0]["source"]["pointer"] == "/data/attributes/url"
    api.post(ENDPOINTS, 403, doc=_endpoint_doc("https://x.example/h", ["order.paid"]), headers=world.headers("staff_x"))
    api.post(ENDPOINTS, 401, doc=_endpoint_doc("https://x.example/h", ["order.paid"]))
    other = {"data": {"type": "organizers", "id": str(world.organizer_y)}}
    api.post(ENDPOINTS, 404, doc=_endpoint_doc("https://x.example/h", ["order.paid"], organizer=other), headers=admin)


def test_an_admin_changes_and_disables_an_endpoint(api, world) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin_x")
    endpoint = api.post(ENDPOINTS, 201, doc=_endpoint_doc("https://a.example/h", ["order.paid"]), headers=admin)["data"]
    change = {
        "data": {
            "type": "webhook-endpoints",
            "id": endpoint["id"],
            "attributes": {"url": "https://b.example/h", "enabled": False, "event-types": ["order.placed"]},
        }
    }
    changed = api.patch(f"{ENDPOINTS}/{endpoint['id']}", 200, doc=change, headers=admin)["data"]["attributes"]
    assert (changed["url"], changed["enabled"], changed["event-types"]) == ("https://b.example/h", False, ["order.placed"])
    api.patch(f"{ENDPOINTS}/{endpoint['id']}", 403, doc=change, headers=world.headers("staff_x"))


def test_the_delivery_log_shows_every_attempt_and_an_admin_can_redeliver(api, world, uow, run_jobs, allow_loopback) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin_x")
    doc = _endpoint_doc(closed_port_url() + "/hooks", ["payment.confirmed"])
    endpoint = api.post(ENDPOINTS, 201, doc=doc, headers=admin)["data"]
    with uow() as s:
        payment = payments.start_payment(s, world.order_a, provider="manual", actor="user:admin")
        payments.confirm_payment(s, payment.id, actor="user:admin")

    log = api.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries", headers=world.headers("staff_x"))
    [delivery] = log["data"]
    attributes = delivery["attributes"]
    assert (attributes["event-type"], attributes["state"], attributes["attempts"]) == ("payment.confirmed", "pending", 1)
    assert attributes["response-status"] is None and "ConnectError" in attributes["last-error"]
    assert attributes["next-attempt-at"] is not None
    assert [a["number"] for a in attributes["log"]] == [1]
    assert attributes["payload"]["type"] == "payment.confirmed"
    assert attributes["payload"]["data"]["type"] == "payments"
    assert log["meta"]["count"] == 1

    api.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver", 403, headers=world.headers("staff_x"))
    api.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver", 404, headers=world.headers("admin_y"))
    api.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver", 202, headers=admin)
    again = api.get(f"/v1/webhook-deliveries/{delivery['id']}", headers=admin)["data"]["attributes"]
    assert again["attempts"] == 2 and [a["number"] for a in again["log"]] == [1, 2]
    with uow() as s:
        assert s.scalar(select(WebhookDelivery.state)) == "pending"
    filtered = api.get(
        f"{ENDPOINTS}/{endpoint['id']}/deliveries", headers=admin, params={"filter[state]": "delivered"}
    )
    assert filtered["data"] == []
