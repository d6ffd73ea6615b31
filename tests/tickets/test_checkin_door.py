"""The door at scale and in test mode: what a scan costs in SQL statements, the lists' figures read the
event's tickets once, and tickets of test-mode orders once the event is out of test mode."""

from __future__ import annotations

from typing import Any

import pytest

from api.conftest import PASSWORD
from api.test_api_statements import counting
from boxoffice.accounts.service import create_api_token
from boxoffice.catalogue.models import Event
from boxoffice.orders.service import LineItem, place_order
from tickets.conftest import Api, World
from tickets.test_tickets_api import _new_list, _positions, _scan
from web.pagekit import text_of

SCAN_STATEMENTS = 3  # the API token, the list with its event and the ticket, the scan's insert


def _secret(api: Api, world: World, order_id: int, who: str = "buyer_a") -> str:
    return str(_positions(api, world, order_id, who)[0]["attributes"]["secret"])


def _go_live(uow: Any, world: World) -> None:
    """The event leaves test mode (as the panel's "Go live" does: the sandbox is no longer offered)."""
    with uow() as s:
        event = s.get(Event, world.shop.event_id)
        event.test_mode = False
        event.payment_providers = {"manual": {"enabled": True}}


def _real_paid_order(uow: Any, world: World, mark_paid: Any) -> int:
    with uow() as s:
        order = place_order(
            s, world.shop.event_id, email="real@example.org", items=[LineItem(world.shop.regular_id, 1)], actor="buyer"
        )
        assert order.test_mode is False
        order_id = order.id
    mark_paid(order_id)
    return order_id


def _counts(api: Api, world: World, list_id: str) -> tuple[int, int]:
    attributes = api.get(f"/v1/check-in-lists/{list_id}", headers=world.headers("staff_x"))["data"]["attributes"]
    return attributes["checkin-count"], attributes["position-count"]


# -- statements per scan ---------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["ok", "already-checked-in", "unpaid", "unknown-ticket"])
def test_a_scan_costs_three_statements_whatever_it_answers(
    uow: Any, api: Api, world: World, mark_paid: Any, database_url: str, outcome: str
) -> None:
    mark_paid(world.order_a)
    with uow() as s:
        token = create_api_token(s, organizer_slug="acme-x", name="door", role="staff")
    headers = {"Authorization": f"Bearer {token}"}
    list_id = _new_list(api, world)
    paid, unpaid = _secret(api, world, world.order_a), _secret(api, world, world.order_b, "buyer_b")
    if outcome == "already-checked-in":
        _scan(api, world, list_id, paid, 201)
    secret = {"ok": paid, "already-checked-in": paid, "unpaid": unpaid, "unknown-ticket": "no-such-ticket"}[outcome]
    doc = {"data": {"type": "checkins", "attributes": {"secret": secret}}}
    with counting(database_url) as count:
        response = api.request("POST", f"/v1/check-in-lists/{list_id}/checkins", doc=doc, headers=headers)
    answered = response.json()
    assert (answered["data"]["attributes"]["result"] if response.status_code == 201 else answered["errors"][0]["code"]) == outcome
    assert count.statements == SCAN_STATEMENTS, "\n".join(count.sql)
    assert count.transactions == 1


def test_the_event_lists_read_the_events_tickets_once_however_many_lists(
    api: Api, world: World, mark_paid: Any, database_url: str
) -> None:
    mark_paid(world.order_a)
    path = f"/v1/events/{world.shop.event_id}/check-in-lists"
    _new_list(api, world, name="Main entrance")
    with counting(database_url) as one:
        api.get(path, headers=world.headers("admin_x"))
    _new_list(api, world, name="Side door", **{"allow-reentry": True})
    _new_list(api, world, name="Students", **{"all-products": False})
    with counting(database_url) as three:
        listed = api.get(path, headers=world.headers("admin_x"))
    counted = {item["attributes"]["name"]: item["attributes"]["position-count"] for item in listed["data"]}
    assert counted == {"Main entrance": 1, "Side door": 1, "Students": 0}
    # One more statement for the kind of list first seen (re-entry counts its admissions its own way).
    assert three.statements <= one.statements + 1, "\n".join(three.sql)
    tickets_read = [sql for sql in three.sql if "order_positions" in sql and "count" in sql.lower()]
    assert len(tickets_read) == 1, "\n".join(tickets_read)


# -- test-mode tickets -----------------------------------------------------------------------------


def test_test_mode_tickets_are_admitted_and_counted_while_the_event_is_in_test_mode(
    api: Api, world: World, mark_paid: Any
) -> None:
    mark_paid(world.order_a)
    list_id = _new_list(api, world)
    assert _counts(api, world, list_id) == (0, 1)
    _scan(api, world, list_id, _secret(api, world, world.order_a), 201)
    assert _counts(api, world, list_id) == (1, 1)


def test_once_live_a_test_mode_ticket_is_refused_and_left_out_of_the_figures(
    uow: Any, api: Api, world: World, mark_paid: Any
) -> None:
    mark_paid(world.order_a)
    mark_paid(world.order_b)
    list_id = _new_list(api, world)
    admitted_in_test = _secret(api, world, world.order_a)
    _scan(api, world, list_id, admitted_in_test, 201)
    _go_live(uow, world)
    real = _real_paid_order(uow, world, mark_paid)
    for secret in (admitted_in_test, _secret(api, world, world.order_b, "buyer_b")):
        error = _scan(api, world, list_id, secret, 409)["errors"][0]
        assert error["code"] == "test-mode-ticket"
        assert error["meta"]["order-code"] and error["meta"]["product"] == "Regular"
    assert _counts(api, world, list_id) == (0, 1), "only the real order's ticket is expected; the test one left out"
    _scan(api, world, list_id, _secret(api, world, real, "admin_x"), 201)
    assert _counts(api, world, list_id) == (1, 1)
    listed = api.get(f"/v1/events/{world.shop.event_id}/check-in-lists", headers=world.headers("staff_x"))
    assert [(i["attributes"]["checkin-count"], i["attributes"]["position-count"]) for i in listed["data"]] == [(1, 1)]
    scans = api.get(f"/v1/check-in-lists/{list_id}/checkins", headers=world.headers("admin_x"))
    assert [c["attributes"]["result"] for c in scans["data"]] == ["ok", "test-mode-ticket", "test-mode-ticket", "ok"]


def test_the_reentry_list_and_the_dashboard_leave_admitted_test_tickets_out_once_live(
    uow: Any, api: Api, world: World, mark_paid: Any, pages: Any
) -> None:
    mark_paid(world.order_a)
    list_id = _new_list(api, world, name="Lounge", **{"allow-reentry": True})
    _scan(api, world, list_id, _secret(api, world, world.order_a), 201)
    _go_live(uow, world)
    real = _real_paid_order(uow, world, mark_paid)
    _scan(api, world, list_id, _secret(api, world, real, "admin_x"), 201)
    _scan(api, world, list_id, _secret(api, world, real, "admin_x"), 201)
    assert _counts(api, world, list_id) == (1, 1)
    pages.login(("admin@acme-x.example", PASSWORD))
    dashboard = text_of(pages.get("/control/acme-x/conf/").text)
    assert "Lounge 1 1" in dashboard and "Lounge · Regular: 1" in dashboard
