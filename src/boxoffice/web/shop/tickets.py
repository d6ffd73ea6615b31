"""The buyer's tickets, reached through the order's secret link: the PDF, and naming the attendees."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.tickets import service as tickets
from boxoffice.tickets.api import pdf_response
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, page, text
from boxoffice.web.orderview import order_path
from boxoffice.web.shop.pages import ORDER, _buyer_order

router = APIRouter(include_in_schema=False)
ATTENDEE_FIELD = "attendee-{}"


@router.get(ORDER + "tickets.pdf")
@page
def tickets_pdf(request: Request, organizer: str, event: str, code: str, secret: str) -> Response:
    with unit_of_work() as session:
        content, filename = tickets.tickets_pdf(_buyer_order(session, organizer, event, code, secret))
    return pdf_response(content, filename)


@router.post(ORDER + "attendees")
@page
def attendees(request: Request, organizer: str, event: str, code: str, secret: str, form: Form) -> Response:
    """Set the attendee name of each ticket (fields ``attendee-<position id>``), until the event begins."""
    try:
        with unit_of_work() as session:
            order = _buyer_order(session, organizer, event, code, secret)
            target = order_path(order)
            names = {
                p.id: text(form, ATTENDEE_FIELD.format(p.id))
                for p in order.live_positions
                if ATTENDEE_FIELD.format(p.id) in form
            }
            changed = tickets.set_attendee_names(session, order, names, actor=f"buyer:{order.code}")
    except DomainError as exc:
        with unit_of_work() as session:
            target = order_path(_buyer_order(session, organizer, event, code, secret))
        return redirect(target + "#tickets", exc.detail)
    return redirect(target + "#tickets", "The attendee names are saved." if changed else "Nothing changed.")
