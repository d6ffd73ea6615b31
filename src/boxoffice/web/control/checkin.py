"""Check-in in the control panel: the event's lists, and the scanner door staff work with.

The scanner takes what a USB or Bluetooth barcode scanner types (it ends with Enter, which submits)
or, where the browser has ``BarcodeDetector``, what the camera sees. Without JavaScript the form
posts and the page shows the result; with it, the scan is posted in the background and the page
answers with a big green or red result, the reason and the attendee, and the running count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from boxoffice.catalogue.models import Product
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, NotFound
from boxoffice.tickets import service as tickets
from boxoffice.tickets.models import CheckInList
from boxoffice.tickets.repository import admitted_counts, figures, list_figures, lists_of_event, search_tickets
from boxoffice.tickets.rules import ScanResult
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, checked, field_errors, page, text
from boxoffice.web.templating import render

router = APIRouter()
LISTS = "/{organizer}/{event}/checkin/"
SCANNER = LISTS + "{list_id}/"
SECTION = "checkin"

HEADLINES = {
    ScanResult.OK: "Admitted",
    ScanResult.ALREADY_CHECKED_IN: "Already checked in",
    ScanResult.UNPAID: "Not paid",
    ScanResult.CANCELED: "Canceled",
    ScanResult.NOT_ON_LIST: "Not on this list",
    ScanResult.UNKNOWN_TICKET: "Unknown ticket",
    ScanResult.TEST_MODE_TICKET: "Test ticket",
}


def _products(session: Session, panel: Panel) -> list[Product]:
    statement = select(Product).where(Product.event_id == panel.event.id).order_by(Product.position, Product.id)
    return list(session.execute(statement).scalars())


def _lists_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None,
    values: Mapping[str, Any] | None = None, status_code: int = 200,
) -> Response:
    found = lists_of_event(session, panel.event.id)
    counted = list_figures(session, panel.event, found)  # the event's tickets read once, not once per list
    lists = [(item, counted[item.id]) for item in found]
    context = {
        "panel": panel, "lists": lists, "products": _products(session, panel), "values": values or {},
        "error": error, "errors": field_errors(error),
    }
    return render(request, "control/checkin.html", context, status_code=status_code)


@router.get(LISTS)
@page
def lists(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _lists_page(request, session, open_panel(request, session, organizer, event, SECTION))


@router.post(LISTS)
@page
def create(request: Request, organizer: str, event: str, form: Form) -> Response:
    name, all_products, reentry = text(form, "name"), checked(form, "all-products"), checked(form, "allow-reentry")
    values = {"name": name, "all-products": all_products, "allow-reentry": reentry}
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, SECTION, admin=True)
            chosen = [p.id for p in _products(session, panel) if checked(form, f"product-{p.id}")]
            created = tickets.create_list(
                session, panel.event, name=name, all_products=all_products, allow_reentry=reentry,
                product_ids=[] if all_products else chosen,
            )
            target = f"{panel.base}checkin/{created.id}/"
    except DomainError as exc:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, SECTION)
            return _lists_page(request, session, panel, error=exc, values=values, status_code=exc.status)
    return redirect(target, f"Check-in list “{name}” created.")


def _list_of(session: Session, panel: Panel, list_id: int) -> CheckInList:
    found = session.get(CheckInList, list_id)
    if found is None or found.event_id != panel.event.id:
        raise NotFound(f"Check-in list {list_id} does not exist.", parameter="list_id")
    return found


def _scanner_page(
    request: Request, session: Session, panel: Panel, check_in_list: CheckInList, result: dict[str, Any] | None = None
) -> Response:
    # The expected count reads every ticket of the event: on the page, not after every scan.
    term = request.query_params.get("q", "").strip()
    context = {
        "panel": panel, "list": check_in_list, "figures": figures(session, panel.event, check_in_list), "result": result,
        "term": term, "found": search_tickets(session, panel.event.id, term) if term else [],
    }
    return render(request, "control/scanner.html", context)


@router.get(SCANNER)
@page
def scanner(request: Request, organizer: str, event: str, list_id: int) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, SECTION)
        return _scanner_page(request, session, panel, _list_of(session, panel, list_id))


@router.post(SCANNER + "scan")
@page
def scan(request: Request, organizer: str, event: str, list_id: int, form: Form) -> Response:
    """Scan one ticket (any team member). JSON for the scanner's script, the page for a plain form."""
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, SECTION)
        found = tickets.open_door(session, list_id, text(form, "secret"))
        if found is None or found.event_id != panel.event.id:
            raise NotFound(f"Check-in list {list_id} does not exist.", parameter="list_id")
        scanned = tickets.scan(session, found, actor=panel.principal.actor)
        ticket = scanned.ticket
        outcome = ScanResult(scanned.checkin.result)
        result = {
            "result": outcome.value,
            "ok": outcome is ScanResult.OK,
            "headline": HEADLINES[outcome],
            "reason": scanned.refusal.detail if scanned.refusal is not None else "",
            "attendee": ticket.attendee_name if ticket else None,
            "product": ticket.product_name if ticket else None,
            "order": ticket.order_code if ticket else None,
            "admitted": admitted_counts(session, panel.event, [found])[found.id],
        }
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(result, headers={"Cache-Control": "no-store"})
        return _scanner_page(request, session, panel, _list_of(session, panel, list_id), result)
