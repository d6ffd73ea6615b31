"""The scanner page in Debian's Chromium: door staff scan with a barcode scanner (it types the code
and Enter) and see a big green or red result with the reason and the attendee, and the count."""

from __future__ import annotations

import re
from typing import Any

import pytest

from boxoffice.catalogue.models import Event
from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from boxoffice.tickets import service as tickets
from web.pagekit import STAFF
from web.test_web_browser import chromium, page, server, shot  # noqa: F401  (fixtures and helpers)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


def test_staff_scan_tickets_and_see_admitted_and_refused_in_big_letters(page, web_shop, uow) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with uow() as s:
        order = orders.place_order(
            s, web_shop.event_id, email="door@example.org", items=[LineItem(web_shop.regular_id, 2)], actor="buyer"
        )
        orders.mark_paid(s, order.id, actor="user:admin@acme.example")
        order.positions[0].attendee_name = "Ada Lovelace"
        secrets: list[Any] = [p.secret for p in order.positions]
        door = tickets.create_list(s, s.get(Event, web_shop.event_id), name="Main entrance")
        list_id = door.id

    page.goto("/control/")
    page.get_by_label("E-mail address").fill(STAFF[0])
    page.get_by_label("Password").fill(STAFF[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Check-in", exact=True).click()
    page.get_by_role("link", name=re.compile("Main entrance")).click()
    expect(page).to_have_url(re.compile(f"/checkin/{list_id}/$"))
    expect(page.locator(".scan-count")).to_have_text("0 of 2 admitted")

    field = page.get_by_label(re.compile("Ticket code"))
    expect(field).to_be_focused()
    field.type(secrets[0] + "\n")  # what a USB barcode scanner does
    result = page.locator("#scan-result")
    expect(result).to_have_class(re.compile(r"\bok\b"))
    expect(result.locator(".headline")).to_have_text("Admitted")
    expect(result.locator(".who")).to_contain_text("Regular · Ada Lovelace · order")
    expect(page.locator(".scan-count")).to_have_text("1 of 2 admitted")
    expect(field).to_have_value("")
    shot(page, "control-scanner")

    field.type(secrets[0] + "\n")
    expect(result).to_have_class(re.compile(r"\brefused\b"))
    expect(result.locator(".headline")).to_have_text("Already checked in")
    expect(result.locator(".reason")).to_contain_text("checked in already")
    shot(page, "control-scanner-refused")

    field.type("this-is-no-ticket\n")
    expect(result.locator(".headline")).to_have_text("Unknown ticket")
    page.get_by_role("heading", name="Scanner: Main entrance").click()  # the field lost the focus
    page.keyboard.type(secrets[1] + "\n")
    expect(result.locator(".headline")).to_have_text("Admitted")
    expect(page.locator(".scan-count")).to_have_text("2 of 2 admitted")
