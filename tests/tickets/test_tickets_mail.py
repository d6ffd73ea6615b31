"""The "order paid" e-mail carries the tickets PDF, over real SMTP (aiosmtpd on loopback)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from boxoffice.orders import service as orders
from boxoffice.orders.service import LineItem
from conftest import make_shop
from tickets.pdfread import decode_pages


def _paid(uow: Any, quantity: int = 2) -> tuple[str, list[str]]:
    with uow() as s:
        shop = make_shop(s)
        order = orders.place_order(
            s, shop.event_id, email="buyer@example.org", items=[LineItem(shop.regular_id, quantity)], actor="buyer"
        )
        orders.mark_paid(s, order.id, actor="user:admin@acme.example")
        return order.code, [p.secret for p in order.positions]


def test_the_order_paid_mail_attaches_the_tickets_pdf(uow, run_jobs, smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, secrets = _paid(uow)
    paid = next(m for m in smtp.messages if m["Subject"] == f"Order {code} is paid")
    files = [part for part in paid.iter_attachments()]
    assert [f.get_filename() for f in files] == [f"tickets-{code}.pdf"]
    assert files[0].get_content_type() == "application/pdf"
    assert decode_pages(files[0].get_content(), tmp_path) == secrets
    assert paid.get_body(preferencelist=("plain",)) is not None, "the text is still there"
    placed = next(m for m in smtp.messages if m["Subject"] != f"Order {code} is paid")
    assert list(placed.iter_attachments()) == [], "only the paid mail brings tickets"


def test_without_smtp_the_log_names_the_attachment(uow, run_jobs, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="boxoffice.mail.transport")
    code, _ = _paid(uow, 1)
    assert f"[attached: tickets-{code}.pdf" in caplog.text
