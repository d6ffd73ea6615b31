"""The tickets PDF: one page per valid ticket, and QR codes that decode back to the secrets.

The pages are read back as a phone at the door would read them (see ``tickets/pdfread.py``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from boxoffice.catalogue.models import Event
from boxoffice.errors import Conflict
from boxoffice.orders import service as orders
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.service import LineItem
from boxoffice.tickets import pdf as tickets_pdf
from boxoffice.tickets.pdf import TicketPage, event_dates, pages_of, render_tickets
from boxoffice.tickets.service import tickets_pdf as tickets_pdf_of
from components import unavailable
from conftest import make_shop
from tickets.pdfread import decode_pages, page_texts

ADMIN = "user:admin@acme.example"


def _paid_order(uow: Any, quantity: int) -> int:
    with uow() as s:
        shop = make_shop(s)
        event = s.get(Event, shop.event_id)
        event.date_from = datetime(2031, 5, 4, 16, 0, tzinfo=UTC)
        event.date_to = datetime(2031, 5, 4, 21, 0, tzinfo=UTC)
        event.timezone = "Europe/Berlin"
        order = orders.place_order(
            s, shop.event_id, email="b@example.org", items=[LineItem(shop.regular_id, quantity)], actor="buyer"
        )
        orders.mark_paid(s, order.id, actor=ADMIN)
        return order.id


def _load(session: Any, order_id: int) -> Order:
    return session.execute(
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.positions).selectinload(OrderPosition.product))
    ).scalar_one()


def test_each_valid_ticket_gets_a_page_whose_qr_code_decodes_to_its_secret(uow: Any, tmp_path: Path) -> None:
    order_id = _paid_order(uow, 3)
    with uow() as s:
        order = _load(s, order_id)
        removed = order.positions[1].id
        change_order(s, order_id, OrderChange(remove=[removed]), actor=ADMIN)
    with uow() as s:
        order = _load(s, order_id)
        expected = [p.secret for p in order.positions if not p.canceled]
        order.positions[0].attendee_name = "Zoë Łukasz"
        pdf, filename = tickets_pdf_of(order)
        code = order.code
    assert filename == f"tickets-{code}.pdf"
    assert decode_pages(pdf, tmp_path) == expected, "the removed position has no page"
    first = page_texts(pdf, tmp_path)[0]
    for text in ("conf EUR", "2031-05-04 18:00 to 23:00 CEST", "Regular", "49.00 EUR", code, "Zoë Łukasz"):
        assert text in first


def test_event_dates_spanning_days_name_both_days() -> None:
    start, end = datetime(2031, 5, 4, 16, 0, tzinfo=UTC), datetime(2031, 5, 6, 15, 0, tzinfo=UTC)
    assert event_dates(start, end, "Europe/Berlin") == "2031-05-04 18:00 to 2031-05-06 17:00 CEST"
    assert event_dates(None, None, "UTC") == ""


def test_a_canceled_order_has_no_tickets(uow: Any) -> None:
    order_id = _paid_order(uow, 1)
    with uow() as s:
        orders.cancel_order(s, order_id, actor=ADMIN)
    with uow() as s:
        with pytest.raises(Conflict) as refused:
            tickets_pdf_of(_load(s, order_id))
        assert refused.value.code == "order-not-paid"


def test_pages_read_event_location_when_events_have_one(uow: Any) -> None:
    order_id = _paid_order(uow, 1)
    with uow() as s:
        order = _load(s, order_id)
        order.event.location = "Hall 7, Fairground"  # type: ignore[attr-defined]
        assert pages_of(order, order.positions)[0].location == "Hall 7, Fairground"


def test_names_outside_the_font_do_not_break_the_pdf() -> None:
    page = TicketPage("Konferenz", "", "", "Regular", "山田 太郎", "49.00 EUR", "ABCDE", "s" * 27)
    assert render_tickets([page]).startswith(b"%PDF")


def _page(attendee: str, event_name: str = "Konferenz") -> TicketPage:
    return TicketPage(event_name, "", "", "Regular", attendee, "49.00 EUR", "ABCDE", "s" * 27)


def test_text_the_built_in_font_can_encode_embeds_no_font(tmp_path: Path) -> None:
    event_name = "Rock \u2013 Live \u201cam See\u201d 5 \u20ac"  # an en dash, curly quotes, the euro sign
    pdf = render_tickets([_page("Zoë Šimek", event_name=event_name)])
    assert b"/FontFile2" not in pdf, "all of them are in the WinAnsi encoding of Helvetica"
    text = page_texts(pdf, tmp_path)[0]
    assert event_name in text and "Zoë Šimek" in text


def test_documents_drawn_at_once_each_carry_the_unicode_glyphs_of_their_own_names(tmp_path: Path) -> None:
    if tickets_pdf._parsed_unicode_font() is None:
        unavailable("needs the Unicode font (apt-get install fonts-dejavu-core)")
    names = ["Łukasz Nowak", "Ψυχή Δημητρίου", "Ђорђе Јовановић"] * 2
    with ThreadPoolExecutor(3) as pool:
        pdfs = list(pool.map(lambda name: render_tickets([_page(name)]), names))
    for number, (name, pdf) in enumerate(zip(names, pdfs, strict=True)):
        (tmp_path / str(number)).mkdir()
        assert name in page_texts(pdf, tmp_path / str(number))[0]


def test_without_the_unicode_font_characters_it_would_draw_become_question_marks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tickets_pdf, "_parsed_unicode_font", lambda: None)
    assert "?ukasz Nowak" in page_texts(render_tickets([_page("Łukasz Nowak")]), tmp_path)[0]
