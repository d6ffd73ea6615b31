"""Check-in in the control panel without a browser: lists, the scanner's answers, who may do what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.tickets.models import Checkin, CheckInList
from web.pagekit import STAFF, STRANGER, flash_of, text_of

BASE = "/control/acme/conf/checkin/"


def _paid_ticket(uow: Any, shop: Any) -> str:
    with uow() as s:
        order = orders.place_order(
            s, shop.event_id, email="door@example.org", items=[LineItem(shop.regular_id, 1)], actor="buyer"
        )
        orders.mark_paid(s, order.id, actor="user:admin@acme.example")
        return order.positions[0].secret


def _create_list(pages: Any, name: str = "Main entrance", **fields: str) -> str:
    created = pages.post(BASE, {"name": name, "all-products": "on", **fields})
    assert created.status_code == 303, created.text
    return str(created.headers["location"])


def test_an_admin_creates_a_list_and_staff_scan_a_ticket_in_once(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    secret = _paid_ticket(uow, web_shop)
    pages.login()
    scanner = _create_list(pages)
    assert flash_of(pages.get(scanner)) == "Check-in list “Main entrance” created."
    pages.post("/control/logout", {})
    pages.login(STAFF)
    shown = pages.get(scanner)
    assert "0 of 1 admitted" in text_of(shown.text) and 'name="secret"' in shown.text
    headers = {"Accept": "application/json"}
    first = pages.post(scanner + "scan", {"secret": secret}, headers=headers).json()
    assert first["ok"] is True and first["headline"] == "Admitted" and first["admitted"] == 1
    second = pages.post(scanner + "scan", {"secret": secret}, headers=headers).json()
    assert second["ok"] is False and second["result"] == "already-checked-in" and second["product"] == "Regular"
    with uow() as s:
        actors = set(s.scalars(select(Checkin.actor)))
    assert actors == {"user:staff@acme.example"}


def test_without_javascript_the_scan_form_shows_the_result_on_the_page(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    scanner = _create_list(pages)
    page = pages.post(scanner + "scan", {"secret": "no-such-ticket"})
    assert page.status_code == 200
    assert 'class="scan-result refused"' in page.text and "Unknown ticket" in page.text


def test_staff_may_not_create_lists(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login(STAFF)
    assert pages.post(BASE, {"name": "Side door", "all-products": "on"}).status_code == 403
    with uow() as s:
        assert s.scalars(select(CheckInList)).all() == []


def test_another_organizers_admin_cannot_reach_the_scanner(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    scanner = _create_list(pages)
    pages.post("/control/logout", {})
    pages.login(STRANGER)
    assert pages.get(scanner).status_code == 404
    assert pages.post(scanner + "scan", {"secret": "x"}).status_code == 404


def test_a_list_without_a_name_is_refused_next_to_the_field(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    pages.login()
    refused = pages.post(BASE, {"name": " ", "all-products": "on"})
    assert refused.status_code == 422 and "A check-in list needs a name." in refused.text


def test_the_dashboard_shows_admitted_and_expected_per_list_and_product(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    secret = _paid_ticket(uow, web_shop)
    _paid_ticket(uow, web_shop)
    pages.login()
    assert "checkin-figures" not in pages.get("/control/acme/conf/").text, "no lists, no check-in figures"
    scanner = _create_list(pages)
    pages.post(scanner + "scan", {"secret": secret})
    dashboard = text_of(pages.get("/control/acme/conf/").text)
    assert "Main entrance 1 2" in dashboard
    assert "Main entrance · Regular: 1" in dashboard


def test_a_ticket_that_does_not_scan_is_found_by_order_code_or_name_and_checked_in(pages, web_shop, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        order = orders.place_order(
            s, web_shop.event_id, email="door@example.org", items=[LineItem(web_shop.regular_id, 2)], actor="buyer"
        )
        orders.mark_paid(s, order.id, actor="user:admin@acme.example")
        order.positions[1].attendee_name = "Grace Brewster Hopper"
        code, secret = order.code, order.positions[1].secret
    pages.login()
    scanner = _create_list(pages)
    by_code = pages.get(scanner, params={"q": code.lower()})
    assert by_code.text.count('name="secret" value=') == 2
    by_name = pages.get(scanner, params={"q": "brew"})
    assert by_name.text.count('name="secret" value=') == 1 and f'value="{secret}"' in by_name.text
    assert "No ticket found" in pages.get(scanner, params={"q": "nobody"}).text
    admitted = pages.post(scanner + "scan", {"secret": secret})
    assert 'class="scan-result ok"' in admitted.text and "Grace Brewster Hopper" in admitted.text
