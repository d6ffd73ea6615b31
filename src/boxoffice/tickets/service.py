"""Use cases of tickets and check-in. Each runs in the caller's transaction and never commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event, Product
from boxoffice.errors import Conflict, DomainError, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.tickets.models import Checkin, CheckInList
from boxoffice.tickets.repository import (
    Door,
    DoorTicket,
    admit_once,
    door,
    first_admission,
    lists_of_event,
    record_scan,
)
from boxoffice.tickets.rules import ScanResult, TicketState, clean_scan, is_valid_ticket, verdict

MAX_ATTENDEE_NAME = 200


def valid_tickets(order: Order) -> list[OrderPosition]:
    """The positions of ``order`` that are tickets today (paid order, position not canceled)."""
    return [p for p in order.positions if is_valid_ticket(position_canceled=p.canceled, order_status=order.status)]


def tickets_pdf(order: Order) -> tuple[bytes, str]:
    """The PDF of the order's valid tickets and its file name; 409 ``order-not-paid`` before it is paid.

    Reads ``order.positions`` with their products (load them with the order for one query).
    """
    if order.status != "paid":
        raise Conflict(f"Order {order.code} is {order.status}: tickets exist once it is paid.", code="order-not-paid")
    # Imported here: fpdf2 (with fontTools and Pillow) adds ~33 MB and ~1 s to a process, which
    # only the processes that draw tickets should pay.
    from boxoffice.tickets.pdf import pages_of, render_tickets

    return render_tickets(pages_of(order, valid_tickets(order))), f"tickets-{order.code}.pdf"


# -- check-in lists --------------------------------------------------------------------------------


def _products_of(session: Session, event: Event, product_ids: Sequence[int], pointer: str) -> list[Product]:
    products = []
    for index, product_id in enumerate(product_ids):
        product = session.get(Product, product_id)
        if product is None or product.event_id != event.id:
            raise NotFound(f"Product {product_id} is not a product of this event.", pointer=f"{pointer}/{index}/id")
        products.append(product)
    return products


PRODUCTS_POINTER = "/data/relationships/products/data"


def create_list(
    session: Session,
    event: Event,
    *,
    name: str,
    all_products: bool = True,
    allow_reentry: bool = False,
    product_ids: Sequence[int] = (),
) -> CheckInList:
    if not name.strip():
        raise InvalidValue("A check-in list needs a name.", pointer="/data/attributes/name")
    check_in_list = CheckInList(
        event_id=event.id, name=name.strip(), all_products=all_products, allow_reentry=allow_reentry
    )
    check_in_list.products = _products_of(session, event, product_ids, PRODUCTS_POINTER)
    session.add(check_in_list)
    session.flush()
    return check_in_list


def default_list(session: Session, event: Event) -> CheckInList:
    """The event's first check-in list; a "Main entrance" for every product, once, when it has none."""
    existing = lists_of_event(session, event.id)
    return existing[0] if existing else create_list(session, event, name="Main entrance")


def update_list(
    session: Session,
    check_in_list: CheckInList,
    event: Event,
    *,
    name: str | None = None,
    all_products: bool | None = None,
    allow_reentry: bool | None = None,
    product_ids: Sequence[int] | None = None,
) -> CheckInList:
    if name is not None:
        if not name.strip():
            raise InvalidValue("A check-in list needs a name.", pointer="/data/attributes/name")
        check_in_list.name = name.strip()
    if all_products is not None:
        check_in_list.all_products = all_products
    if allow_reentry is not None:
        check_in_list.allow_reentry = allow_reentry
    if product_ids is not None:
        check_in_list.products = _products_of(session, event, product_ids, PRODUCTS_POINTER)
    session.flush()
    return check_in_list


# -- scanning --------------------------------------------------------------------------------------


class TicketRefused(Conflict):
    """A door refuses a ticket it knows; the code is the reason (``already-checked-in``, ``unpaid``…)."""

    title = "Ticket refused"


class UnknownTicket(NotFound):
    code = "unknown-ticket"
    title = "Unknown ticket"


@dataclass
class Scan:
    """A recorded scan, the ticket it found (if any), and the refusal to answer with (if refused)."""

    checkin: Checkin
    ticket: DoorTicket | None
    refusal: DomainError | None = None


_REASONS = {
    ScanResult.TEST_MODE_TICKET: "This is a ticket of a test-mode order; the event is no longer in test mode.",
    ScanResult.CANCELED: "This ticket is canceled.",
    ScanResult.NOT_ON_LIST: "This ticket's product is not admitted by this list.",
    ScanResult.UNPAID: "This ticket's order is not paid.",
}


def open_door(session: Session, list_id: int, text: str) -> Door | None:
    """The list ``list_id`` and what a scan of ``text`` found there (one query); None for no list.

    The caller checks that whoever scans may use the list before :func:`scan` records anything.
    """
    return door(session, list_id, clean_scan(text))


def _already(first_at: datetime | None, first_by: str | None) -> TicketRefused:
    detail = "This ticket was checked in already"
    detail += f" at {first_at.strftime('%Y-%m-%d %H:%M:%S UTC')}." if first_at else "."
    meta = {"first-checked-in-at": first_at.isoformat() if first_at else None, "first-checked-in-by": first_by}
    return TicketRefused(detail, code=ScanResult.ALREADY_CHECKED_IN.value, meta=meta)


def scan(session: Session, found: Door, *, actor: str) -> Scan:
    """Admit the ticket :func:`open_door` found at its list, or refuse it, and record either.

    One insert: an admission to a list without re-entry takes the unique (list, admitted position)
    key with ``INSERT … ON CONFLICT DO NOTHING``, so two doors scanning one ticket at the same moment
    admit it once. Only the door that loses that race reads the first admission again.
    """

    def values(position_id: int | None, result: ScanResult) -> dict[str, Any]:
        return {
            "check_in_list_id": found.id, "position_id": position_id, "admitted_position_id": None,
            "result": result.value, "actor": actor, "created_at": now(),
        }  # fmt: skip

    def recorded(row: dict[str, Any]) -> Checkin:
        # The row as inserted, for the answer; not added to the session, which would write it again.
        return Checkin(id=record_scan(session, row), **row)

    ticket = found.ticket
    if ticket is None:
        refusal = UnknownTicket("No ticket of this event has this code.", pointer="/data/attributes/secret")
        return Scan(recorded(values(None, ScanResult.UNKNOWN_TICKET)), None, refusal)
    result = verdict(
        TicketState(ticket.canceled, ticket.order_status, ticket.on_list, ticket.order_test_mode, found.event_test_mode)
    )
    admitted_before = not found.allow_reentry and ticket.first_admitted_at is not None
    if result is ScanResult.OK and not admitted_before:
        row = values(ticket.position_id, ScanResult.OK)
        if found.allow_reentry:
            return Scan(recorded(row), ticket)
        row["admitted_position_id"] = ticket.position_id
        new_id = admit_once(session, row)
        if new_id is not None:
            return Scan(Checkin(id=new_id, **row), ticket)
        # Another door admitted it after our read: ask who, once.
        first = first_admission(session, found.id, ticket.position_id)
        ticket = replace(
            ticket,
            first_admitted_at=first.created_at if first else None,
            first_admitted_by=first.actor if first else None,
        )
    if result is ScanResult.OK:
        checkin = recorded(values(ticket.position_id, ScanResult.ALREADY_CHECKED_IN))
        return Scan(checkin, ticket, _already(ticket.first_admitted_at, ticket.first_admitted_by))
    return Scan(recorded(values(ticket.position_id, result)), ticket, TicketRefused(_REASONS[result], code=result.value))


# -- attendee names --------------------------------------------------------------------------------


def set_attendee_names(session: Session, order: Order, names: Mapping[int, str], *, actor: str) -> list[int]:
    """Name the attendees of the order's live positions; returns the positions that changed.

    The buyer may do this until the event begins; an empty name removes it.
    """
    if order.status == "canceled":
        raise Conflict(f"Order {order.code} is canceled.", code="order-canceled")
    begins = order.event.date_from
    if begins is not None and begins <= now():
        raise Conflict("The event has begun; attendee names can no longer change.", code="event-started")
    live = {p.id: p for p in order.live_positions}
    changed = []
    for position_id, raw in names.items():
        position = live.get(position_id)
        if position is None:
            raise InvalidValue(
                f"Position {position_id} is not a ticket of order {order.code}.", pointer=f"attendee-{position_id}"
            )
        name = " ".join(raw.split())[:MAX_ATTENDEE_NAME] or None
        if name != position.attendee_name:
            position.attendee_name = name
            changed.append(position_id)
    if changed:
        # The names themselves stay out of the audit log, so shredding them leaves nothing behind.
        audit.record(session, order, actor, Action.ORDER_ATTENDEES_CHANGED, positions=changed)
    return changed
