"""Queries of tickets and check-in: a ticket by its secret, admissions, and the figures of a list."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import distinct, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from boxoffice.catalogue.models import Product
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.tickets.models import Checkin, CheckInList, check_in_list_products
from boxoffice.tickets.rules import ScanResult


@dataclass(frozen=True)
class ScannedTicket:
    position: OrderPosition
    order_code: str
    order_status: str
    product_name: str


def ticket_by_secret(session: Session, event_id: int, secret: str) -> ScannedTicket | None:
    """The position of ``event_id`` whose secret is ``secret`` (one indexed lookup), or None."""
    row = session.execute(
        select(OrderPosition, Order.code, Order.status, Product.name)
        .join(Order, Order.id == OrderPosition.order_id)
        .join(Product, Product.id == OrderPosition.product_id)
        .where(OrderPosition.secret == secret, Order.event_id == event_id)
    ).first()
    if row is None:
        return None
    return ScannedTicket(row[0], row[1], row[2], row[3])


def attendee_names(session: Session, position_ids: Collection[int]) -> dict[int, str | None]:
    if not position_ids:
        return {}
    rows = session.execute(
        select(OrderPosition.id, OrderPosition.attendee_name).where(OrderPosition.id.in_(sorted(position_ids)))
    )
    return {row[0]: row[1] for row in rows}


SEARCH_LIMIT = 20


def search_tickets(session: Session, event_id: int, term: str) -> list[ScannedTicket]:
    """Live tickets of the event by order code (exact) or attendee name (start of any word, any
    case), for the door when a code does not scan; at most :data:`SEARCH_LIMIT`."""
    term = term.strip()
    if len(term) < 2:
        return []
    pattern = term.lower()
    rows = session.execute(
        select(OrderPosition, Order.code, Order.status, Product.name)
        .join(Order, Order.id == OrderPosition.order_id)
        .join(Product, Product.id == OrderPosition.product_id)
        .where(
            Order.event_id == event_id,
            OrderPosition.canceled.is_(False),
            or_(
                Order.code == term.upper(),
                func.lower(OrderPosition.attendee_name).startswith(pattern, autoescape=True),
                func.lower(OrderPosition.attendee_name).contains(" " + pattern, autoescape=True),
            ),
        )
        .order_by(Order.code, OrderPosition.id)
        .limit(SEARCH_LIMIT)
    ).all()
    return [ScannedTicket(r[0], r[1], r[2], r[3]) for r in rows]


def list_product_ids(session: Session, check_in_list_id: int) -> set[int]:
    rows = session.execute(
        select(check_in_list_products.c.product_id).where(check_in_list_products.c.check_in_list_id == check_in_list_id)
    ).scalars()
    return set(rows)


def first_admission(session: Session, check_in_list_id: int, position_id: int) -> Checkin | None:
    return session.execute(
        select(Checkin)
        .where(
            Checkin.check_in_list_id == check_in_list_id,
            Checkin.position_id == position_id,
            Checkin.result == ScanResult.OK,
        )
        .order_by(Checkin.id)
        .limit(1)
    ).scalar_one_or_none()


def _on_list(check_in_list: CheckInList) -> ColumnElement[bool]:
    """Positions whose product the list admits."""
    if check_in_list.all_products:
        return true()
    chosen = select(check_in_list_products.c.product_id).where(
        check_in_list_products.c.check_in_list_id == check_in_list.id
    )
    return OrderPosition.product_id.in_(chosen)


@dataclass(frozen=True)
class ListFigures:
    """``admitted`` distinct tickets of ``expected`` valid ones (paid, not canceled, on the list)."""

    admitted: int
    expected: int


def admitted_count(session: Session, check_in_list: CheckInList) -> int:
    """Distinct tickets admitted. Without re-entry each admission holds the unique (list, admitted
    position) key, so this counts entries of that index alone, however many scans were refused."""
    if not check_in_list.allow_reentry:
        counted = select(func.count(Checkin.admitted_position_id)).where(
            Checkin.check_in_list_id == check_in_list.id
        )
    else:
        counted = select(func.count(distinct(Checkin.position_id))).where(
            Checkin.check_in_list_id == check_in_list.id, Checkin.result == ScanResult.OK
        )
    return int(session.scalar(counted) or 0)


def figures(session: Session, check_in_list: CheckInList) -> ListFigures:
    """Admitted and expected tickets; counting the expected reads every valid ticket of the event
    (about 20 ms per 100k tickets, docs/benchmarks.md), so the scanner asks only for admitted."""
    expected = session.scalar(
        select(func.count(OrderPosition.id))
        .join(Order, Order.id == OrderPosition.order_id)
        .where(
            Order.event_id == check_in_list.event_id,
            Order.status == "paid",
            OrderPosition.canceled.is_(False),
            _on_list(check_in_list),
        )
    )
    return ListFigures(admitted_count(session, check_in_list), int(expected or 0))


@dataclass(frozen=True)
class CheckinFigures:
    """The dashboard's check-in figures: per list admitted of expected, and per list and product admitted."""

    lists: list[tuple[CheckInList, ListFigures]]
    by_product: list[tuple[str, str, int]]


def checkin_figures(session: Session, event_id: int) -> CheckinFigures:
    lists = [(item, figures(session, item)) for item in lists_of_event(session, event_id)]
    return CheckinFigures(lists, admitted_by_product(session, event_id) if lists else [])


def admitted_by_product(session: Session, event_id: int) -> list[tuple[str, str, int]]:
    """(list name, product name, admitted tickets) of every list of the event, for the dashboard."""
    rows = session.execute(
        select(CheckInList.name, Product.name, func.count(distinct(Checkin.position_id)))
        .join(Checkin, Checkin.check_in_list_id == CheckInList.id)
        .join(OrderPosition, OrderPosition.id == Checkin.position_id)
        .join(Product, Product.id == OrderPosition.product_id)
        .where(CheckInList.event_id == event_id, Checkin.result == ScanResult.OK)
        .group_by(CheckInList.id, CheckInList.name, Product.id, Product.name)
        .order_by(CheckInList.id, Product.id)
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def lists_of_event(session: Session, event_id: int) -> Sequence[CheckInList]:
    return (
        session.execute(select(CheckInList).where(CheckInList.event_id == event_id).order_by(CheckInList.id))
        .scalars()
        .all()
    )
