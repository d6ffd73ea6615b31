"""Tickets over the API: position secrets, the PDF, check-in lists, every scan result, who may scan."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from boxoffice.catalogue.models import Event
from boxoffice.cli import app as cli
from boxoffice.kit.clock import now
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.service import LineItem, cancel_order, place_order
from boxoffice.tickets.models import CheckInList
from tickets.conftest import Api, World

Paid = Callable[[int], None]


def _positions(api: Api, world: World, order_id: int, who: str = "buyer_a") -> list[dict[str, Any]]:
    doc = api.get(f"/v1/orders/{order_id}/positions", headers=world.headers(who))
    return doc["data"]


def _list_document(name: str = "Main entrance", **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "check-in-lists", "attributes": {"name": name, **attributes}}}


def _scan_document(secret: str) -> dict[str, Any]:
    return {"data": {"type": "checkins", "attributes": {"secret": secret}}}


def _new_list(api: Api, world: World, **kwargs: Any) -> str:
    doc = api.post(
        f"/v1/events/{world.shop.event_id}/check-in-lists",
        201,
        doc=_list_document(**kwargs),
        headers=world.headers("admin_x"),
    )
    return str(doc["data"]["id"])


def _scan(api: Api, world: World, list_id: str, secret: str, status: int, who: str = "staff_x") -> dict[str, Any]:
    return api.post(
        f"/v1/check-in-lists/{list_id}/checkins", status, doc=_scan_document(secret), headers=world.headers(who)
    )


# -- secrets ---------------------------------------------------------------------------------------


def test_every_position_gets_its_own_url_safe_secret_of_at_least_128_bits(api: Api, world: World) -> None:
    placed = api.post("/v1/orders", 201, doc=world.order_document(quantity=3))
    token = placed["meta"]["access-token"]
    doc = api.get(f"/v1/orders/{placed['data']['id']}/positions", headers={"Authorization": f"Bearer {token}"})
    secrets = [p["attributes"]["secret"] for p in doc["data"]]
    assert len(set(secrets)) == 3
    for secret in secrets:
        raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
        assert len(raw) * 8 >= 128
        assert secret.replace("-", "").replace("_", "").isalnum()


def test_the_secret_is_shown_to_the_buyer_and_the_team_but_not_to_others(api: Api, world: World) -> None:
    mine = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    assert _positions(api, world, world.order_a, "staff_x")[0]["attributes"]["secret"] == mine
    api.get(f"/v1/orders/{world.order_a}/positions", 404, headers=world.headers("buyer_b"))
    api.get(f"/v1/orders/{world.order_a}/positions", 404, headers=world.headers("admin_y"))


def test_a_change_keeps_the_secrets_of_kept_positions_and_gives_added_ones_new_secrets(
    uow: Any, api: Api, world: World
) -> None:
    before = {p["id"]: p["attributes"]["secret"] for p in _positions(api, world, world.order_a)}
    with uow() as s:
        change_order(
            s,
            world.order_a,
            OrderChange(
                add=[LineItem(world.shop.student_id, 2)], set_product=[(int(next(iter(before))), world.shop.student_id)]
            ),
            actor="user:admin@acme-x.example",
        )
    after = {p["id"]: p["attributes"]["secret"] for p in _positions(api, world, world.order_a)}
    assert len(after) == 3
    for position_id, secret in before.items():
        assert after[position_id] == secret, "a kept position keeps its ticket, even with a new product"
    assert len(set(after.values())) == 3


# -- the PDF ---------------------------------------------------------------------------------------


def test_the_pdf_of_an_unpaid_order_is_409_order_not_paid(api: Api, world: World) -> None:
    doc = api.get(f"/v1/orders/{world.order_a}/tickets.pdf", 409, headers=world.headers("buyer_a"))
    assert doc["errors"][0]["code"] == "order-not-paid"


def test_the_pdf_is_for_the_buyer_and_the_team_only(api: Api, world: World, mark_paid: Paid) -> None:
    mark_paid(world.order_a)
    for who in ("buyer_a", "staff_x", "admin_x"):
        response = api.request("GET", f"/v1/orders/{world.order_a}/tickets.pdf", headers=world.headers(who))
        assert response.status_code == 200, who
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    for who in ("buyer_b", "admin_y"):
        api.get(f"/v1/orders/{world.order_a}/tickets.pdf", 404, headers=world.headers(who))
    api.get(f"/v1/orders/{world.order_a}/tickets.pdf", 401)


# -- check-in lists --------------------------------------------------------------------------------


def test_admins_create_and_change_check_in_lists_and_the_team_reads_them(api: Api, world: World) -> None:
    list_id = _new_list(api, world, **{"all-products": False})
    doc = api.patch(
        f"/v1/check-in-lists/{list_id}",
        200,
        doc={
            "data": {
                "type": "check-in-lists",
                "id": list_id,
                "attributes": {"name": "Students", "allow-reentry": True},
                "relationships": {"products": {"data": [{"type": "products", "id": str(world.shop.student_id)}]}},
            }
        },
        headers=world.headers("admin_x"),
    )
    attributes = doc["data"]["attributes"]
    assert attributes["name"] == "Students" and attributes["allow-reentry"] is True
    assert attributes["all-products"] is False
    assert doc["data"]["relationships"]["products"]["data"] == [{"type": "products", "id": str(world.shop.student_id)}]
    listed = api.get(f"/v1/events/{world.shop.event_id}/check-in-lists", headers=world.headers("staff_x"))
    assert [item["id"] for item in listed["data"]] == [list_id]
    single = api.get(f"/v1/check-in-lists/{list_id}", headers=world.headers("staff_x"))
    assert single["data"]["attributes"]["position-count"] == 0


def test_defaults_are_all_products_and_no_reentry(api: Api, world: World) -> None:
    doc = api.get(f"/v1/check-in-lists/{_new_list(api, world)}", headers=world.headers("admin_x"))
    assert doc["data"]["attributes"]["all-products"] is True
    assert doc["data"]["attributes"]["allow-reentry"] is False


def test_staff_may_not_create_lists_and_strangers_do_not_see_them(api: Api, world: World) -> None:
    api.post(
        f"/v1/events/{world.shop.event_id}/check-in-lists", 403, doc=_list_document(), headers=world.headers("staff_x")
    )
    list_id = _new_list(api, world)
    api.get(f"/v1/check-in-lists/{list_id}", 404, headers=world.headers("admin_y"))
    api.get(f"/v1/check-in-lists/{list_id}", 404, headers=world.headers("buyer_a"))


def test_a_product_of_another_event_is_refused_with_a_pointer(api: Api, world: World, make_world: Any) -> None:
    other = make_world()
    doc = api.post(
        f"/v1/events/{world.shop.event_id}/check-in-lists",
        404,
        doc={
            "data": {
                "type": "check-in-lists",
                "attributes": {"name": "Wrong", "all-products": False},
                "relationships": {"products": {"data": [{"type": "products", "id": str(other.shop.regular_id)}]}},
            }
        },
        headers=world.headers("admin_x"),
    )
    assert doc["errors"][0]["source"]["pointer"] == "/data/relationships/products/data/0/id"


# -- scanning --------------------------------------------------------------------------------------


def test_a_paid_ticket_is_admitted_once_then_refused_as_already_checked_in(
    api: Api, world: World, mark_paid: Paid
) -> None:
    mark_paid(world.order_a)
    secret = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    list_id = _new_list(api, world)
    admitted = _scan(api, world, list_id, secret, 201)
    assert admitted["data"]["type"] == "checkins"
    assert admitted["data"]["attributes"]["result"] == "ok"
    assert admitted["data"]["attributes"]["actor"] == "user:staff@acme-x.example"
    position_id = _positions(api, world, world.order_a)[0]["id"]
    assert admitted["data"]["relationships"]["position"]["data"] == {"type": "order-positions", "id": position_id}
    again = _scan(api, world, list_id, f"  {secret}\n", 409, who="admin_x")
    error = again["errors"][0]
    assert error["code"] == "already-checked-in"
    assert error["meta"]["first-checked-in-by"] == "user:staff@acme-x.example"
    counts = api.get(f"/v1/check-in-lists/{list_id}", headers=world.headers("staff_x"))["data"]["attributes"]
    assert (counts["checkin-count"], counts["position-count"]) == (1, 1)


def test_a_list_with_reentry_admits_the_ticket_on_every_scan(api: Api, world: World, mark_paid: Paid) -> None:
    mark_paid(world.order_a)
    secret = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    list_id = _new_list(api, world, **{"allow-reentry": True})
    _scan(api, world, list_id, secret, 201)
    _scan(api, world, list_id, secret, 201)
    counts = api.get(f"/v1/check-in-lists/{list_id}", headers=world.headers("staff_x"))["data"]["attributes"]
    assert counts["checkin-count"] == 1, "one ticket, however often it came in"


def test_an_unknown_text_is_404_unknown_ticket(api: Api, world: World) -> None:
    doc = _scan(api, world, _new_list(api, world), "not-a-ticket-at-all", 404)
    assert doc["errors"][0]["code"] == "unknown-ticket"


def test_a_ticket_of_another_event_is_unknown_here(api: Api, world: World, make_world: Any, mark_paid: Paid) -> None:
    other = make_world()
    mark_paid(other.order_a)
    secret = _positions(api, other, other.order_a)[0]["attributes"]["secret"]
    assert _scan(api, world, _new_list(api, world), secret, 404)["errors"][0]["code"] == "unknown-ticket"


def test_a_ticket_of_an_unpaid_order_is_refused_as_unpaid(api: Api, world: World) -> None:
    secret = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    doc = _scan(api, world, _new_list(api, world), secret, 409)
    assert doc["errors"][0]["code"] == "unpaid"
    assert doc["errors"][0]["meta"]["product"] == "Regular"


def test_a_ticket_of_a_canceled_order_is_refused_as_canceled(uow: Any, api: Api, world: World) -> None:
    secret = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    with uow() as s:
        cancel_order(s, world.order_a, actor="user:admin@acme-x.example")
    assert _scan(api, world, _new_list(api, world), secret, 409)["errors"][0]["code"] == "canceled"


def test_a_position_removed_by_a_change_is_refused_as_canceled(
    uow: Any, api: Api, world: World, mark_paid: Paid
) -> None:
    with uow() as s:
        order = place_order(
            s, world.shop.event_id, email="c@example.org", items=[LineItem(world.shop.regular_id, 2)], actor="buyer"
        )
        order_id, (kept, removed) = order.id, [(p.id, p.secret) for p in order.positions]
    mark_paid(order_id)
    with uow() as s:
        change_order(s, order_id, OrderChange(remove=[removed[0]]), actor="user:admin@acme-x.example")
    list_id = _new_list(api, world)
    assert _scan(api, world, list_id, removed[1], 409)["errors"][0]["code"] == "canceled"
    _scan(api, world, list_id, kept[1], 201)


def test_a_product_not_on_the_list_is_refused_as_not_on_list(api: Api, world: World, mark_paid: Paid) -> None:
    mark_paid(world.order_a)
    secret = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    doc = api.post(
        f"/v1/events/{world.shop.event_id}/check-in-lists",
        201,
        doc={
            "data": {
                "type": "check-in-lists",
                "attributes": {"name": "Students only", "all-products": False},
                "relationships": {"products": {"data": [{"type": "products", "id": str(world.shop.student_id)}]}},
            }
        },
        headers=world.headers("admin_x"),
    )
    assert _scan(api, world, doc["data"]["id"], secret, 409)["errors"][0]["code"] == "not-on-list"


def test_every_scan_is_listed_with_its_result_who_and_when(api: Api, world: World, mark_paid: Paid) -> None:
    mark_paid(world.order_a)
    paid = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    unpaid = _positions(api, world, world.order_b, "buyer_b")[0]["attributes"]["secret"]
    list_id = _new_list(api, world)
    _scan(api, world, list_id, paid, 201)
    _scan(api, world, list_id, paid, 409)
    _scan(api, world, list_id, unpaid, 409)
    _scan(api, world, list_id, "nonsense", 404)
    doc = api.get(f"/v1/check-in-lists/{list_id}/checkins", headers=world.headers("admin_x"))
    results = [c["attributes"]["result"] for c in doc["data"]]
    assert results == ["unknown-ticket", "unpaid", "already-checked-in", "ok"]
    assert all(
        c["attributes"]["actor"] == "user:staff@acme-x.example" and c["attributes"]["created-at"] for c in doc["data"]
    )
    refused = api.get(
        f"/v1/check-in-lists/{list_id}/checkins", headers=world.headers("admin_x"), params={"filter[result]": "ok"}
    )
    assert [c["attributes"]["result"] for c in refused["data"]] == ["ok"]


@pytest.mark.parametrize("who, status", [("buyer_a", 404), ("admin_y", 404), (None, 401)])
def test_buyers_strangers_and_anonymous_callers_may_not_scan(
    api: Api, world: World, mark_paid: Paid, who: str | None, status: int
) -> None:
    mark_paid(world.order_a)
    secret = _positions(api, world, world.order_a)[0]["attributes"]["secret"]
    list_id = _new_list(api, world)
    headers = world.headers(who) if who else {}
    api.post(f"/v1/check-in-lists/{list_id}/checkins", status, doc=_scan_document(secret), headers=headers)
    doc = api.get(f"/v1/check-in-lists/{list_id}/checkins", headers=world.headers("admin_x"))
    assert doc["data"] == [], "a refused caller leaves no scan behind"


# -- attendee names --------------------------------------------------------------------------------


def _attendee_document(position_id: str, name: str | None) -> dict[str, Any]:
    return {"data": {"type": "order-positions", "id": position_id, "attributes": {"attendee-name": name}}}


def test_the_buyer_names_an_attendee_and_the_team_sees_it(api: Api, world: World) -> None:
    position_id = _positions(api, world, world.order_a)[0]["id"]
    doc = api.patch(
        f"/v1/order-positions/{position_id}",
        200,
        doc=_attendee_document(position_id, "Grace Hopper"),
        headers=world.headers("buyer_a"),
    )
    assert doc["data"]["attributes"]["attendee-name"] == "Grace Hopper"
    assert _positions(api, world, world.order_a, "staff_x")[0]["attributes"]["attendee-name"] == "Grace Hopper"
    api.patch(
        f"/v1/order-positions/{position_id}",
        200,
        doc=_attendee_document(position_id, None),
        headers=world.headers("staff_x"),
    )
    assert _positions(api, world, world.order_a)[0]["attributes"]["attendee-name"] is None


def test_another_buyer_cannot_name_the_attendee_and_names_freeze_when_the_event_begins(
    uow: Any, api: Api, world: World
) -> None:
    position_id = _positions(api, world, world.order_a)[0]["id"]
    document = _attendee_document(position_id, "Mallory")
    api.patch(f"/v1/order-positions/{position_id}", 404, doc=document, headers=world.headers("buyer_b"))
    with uow() as s:
        s.get(Event, world.shop.event_id).date_from = now()
    refused = api.patch(f"/v1/order-positions/{position_id}", 409, doc=document, headers=world.headers("buyer_a"))
    assert refused["errors"][0]["code"] == "event-started"


def test_the_demo_brings_one_check_in_list_however_often_it_runs(database_url: str, uow: Any) -> None:
    for _ in range(2):
        assert CliRunner().invoke(cli, ["demo"]).exit_code == 0
    with uow() as s:
        lists = s.scalars(select(CheckInList)).all()
        assert [(item.name, item.all_products, item.allow_reentry) for item in lists] == [
            ("Main entrance", True, False)
        ]
