"""The buyer's order page: tickets with QR codes and the PDF once paid, attendee names before the event."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from boxoffice.catalogue.models import Event
from boxoffice.kit.clock import now
from tickets.pdfread import decode_pages
from web.pagekit import code_of, flash_of, text_of


def _attendee_fields(html: str) -> list[str]:
    return re.findall(r'name="(attendee-\d+)"', html)


def test_an_unpaid_order_lets_the_buyer_name_attendees_but_shows_no_tickets_yet(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=2)
    shown = pages.get(path)
    assert len(_attendee_fields(shown.text)) == 2
    assert "appear here once the order is paid" in text_of(shown.text)
    assert "<svg" not in shown.text and "tickets.pdf" not in shown.text
    assert pages.get(path + "tickets.pdf").status_code == 409


def test_a_paid_order_shows_a_qr_code_per_ticket_and_a_pdf_that_decodes_to_them(  # type: ignore[no-untyped-def]
    pages, web_shop, load_order, tmp_path: Path
) -> None:
    path = pages.place(web_shop, regular=2)
    pages.pay_card(path)
    shown = pages.get(path)
    assert shown.text.count("<svg") == 2 and f'href="{path}tickets.pdf"' in shown.text
    pdf = pages.get(path + "tickets.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    order = load_order(code_of(path))
    assert decode_pages(pdf.content, tmp_path) == [p.secret for p in order.positions]


def test_the_buyer_names_attendees_and_the_names_are_kept(pages, web_shop, load_order) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=2)
    first, second = _attendee_fields(pages.get(path).text)
    saved = pages.post(path + "attendees", {first: "  Ada   Lovelace ", second: ""}, follow=True)
    assert flash_of(saved) == "The attendee names are saved."
    order = load_order(code_of(path))
    assert [p.attendee_name for p in order.positions] == ["Ada Lovelace", None]
    assert 'value="Ada Lovelace"' in pages.get(path).text


def test_names_can_no_longer_change_once_the_event_has_begun(pages, web_shop, load_order, uow) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1)
    (field,) = _attendee_fields(pages.get(path).text)
    with uow() as s:
        s.get(Event, web_shop.event_id).date_from = now() - timedelta(hours=1)
    refused = pages.post(path + "attendees", {field: "Late Comer"}, follow=True)
    assert flash_of(refused) == "The event has begun; attendee names can no longer change."
    assert load_order(code_of(path)).positions[0].attendee_name is None
    assert _attendee_fields(refused.text) == []


def test_another_orders_link_cannot_reach_the_tickets(pages, web_shop) -> None:  # type: ignore[no-untyped-def]
    path = pages.place(web_shop, regular=1)
    pages.pay_card(path)
    forged = re.sub(r"/[^/]+/$", "/not-the-secret/", path)
    assert pages.get(forged + "tickets.pdf").status_code == 404
