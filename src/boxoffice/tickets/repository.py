"""Queries of tickets and check-in: a scan's one read and its one write, search, and the lists' figures."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, and_, bindparam, distinct, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from boxoffice.catalogue.models import Event, Product
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.tickets.models import Checkin, CheckInList, check_in_list_products
from boxoffice.tickets.rules import ScanResult, counts_test_tickets


@dataclass(frozen=True)
class ScannedTicket:
    """A ticket found by search, with what the door shows about it."""

    position: OrderPosition
    order_code: str
    order_status: str
    product_name: str


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


# -- a scan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoorTicket:
    """The scanned ticket as the door sees it, with its first admission to the list (if any)."""

    position_id: int
    canceled: bool
    attendee_name: str | None
    order_code: str
    order_status: str
    order_test_mode: bool
    product_name: str
    on_list: bool
    first_admitted_at: datetime | None
    first_admitted_by: str | None


@dataclass(frozen=True)
class Door:
    """A check-in list as a scan needs it: its event's organizer and mode, and the scanned ticket."""

    id: int
    event_id: int
    organizer_id: int
    event_test_mode: bool
    allow_reentry: bool
    ticket: DoorTicket | None


_LISTS, _EVENTS = CheckInList.__table__, Event.__table__
_POSITIONS, _ORDERS, _PRODUCTS = OrderPosition.__table__, Order.__table__, Product.__table__
_CHECKINS, _CHOSEN = Checkin.__table__, check_in_list_products
assert isinstance(_LISTS, Table) and isinstance(_EVENTS, Table) and isinstance(_CHECKINS, Table)
assert isinstance(_POSITIONS, Table) and isinstance(_ORDERS, Table) and isinstance(_PRODUCTS, Table)

# Built once: a scan is the door's hot path, and a prebuilt Core statement skips building the
# statement and the ORM's work on every scan. The secret is unique, so there is at most one row; a
# ticket of another event finds no order and is unknown here. The first admission comes along, so a
# second scan is refused without another query.
_DOOR = (
    select(
        _LISTS.c.event_id,
        _LISTS.c.all_products,
        _LISTS.c.allow_reentry,
        _EVENTS.c.organizer_id,
        _EVENTS.c.test_mode,
        _POSITIONS.c.id,
        _POSITIONS.c.canceled,
        _POSITIONS.c.attendee_name,
        _ORDERS.c.code,
        _ORDERS.c.status,
        _ORDERS.c.test_mode,
        _PRODUCTS.c.name,
        _CHOSEN.c.product_id,
        _CHECKINS.c.created_at,
        _CHECKINS.c.actor,
    )
    .select_from(_LISTS)
    .join(_EVENTS, _EVENTS.c.id == _LISTS.c.event_id)
    .outerjoin(_POSITIONS, _POSITIONS.c.secret == bindparam("secret"))
    .outerjoin(_ORDERS, and_(_ORDERS.c.id == _POSITIONS.c.order_id, _ORDERS.c.event_id == _LISTS.c.event_id))
    .outerjoin(_PRODUCTS, _PRODUCTS.c.id == _POSITIONS.c.product_id)
    .outerjoin(_CHOSEN, and_(_CHOSEN.c.check_in_list_id == _LISTS.c.id, _CHOSEN.c.product_id == _POSITIONS.c.product_id))
    .outerjoin(
        _CHECKINS, and_(_CHECKINS.c.check_in_list_id == _LISTS.c.id, _CHECKINS.c.admitted_position_id == _POSITIONS.c.id)
    )
    .where(_LISTS.c.id == bindparam("list_id"))
)


def door(session: Session, list_id: int, secret: str) -> Door | None:
    """The list ``list_id`` with its event and the ticket whose secret is ``secret``, in one query;
    None when there is no such list."""
    row = session.connection().execute(_DOOR, {"list_id": list_id, "secret": secret}).first()
    if row is None:
        return None
    (event_id, all_products, allow_reentry, organizer_id, event_test_mode, position_id, canceled, attendee,
     code, status, order_test_mode, product_name, chosen, first_at, first_by) = row  # fmt: skip
    ticket = None
    if position_id is not None and code is not None:
        ticket = DoorTicket(
            position_id, canceled, attendee, code, status, order_test_mode, product_name,
            all_products or chosen is not None, first_at, first_by,
        )  # fmt: skip
    return Door(list_id, event_id, organizer_id, event_test_mode, allow_reentry, ticket)


_RECORD = insert(_CHECKINS).returning(_CHECKINS.c.id)
_ADMIT = {
    name: dialect.insert(_CHECKINS)
    .on_conflict_do_nothing(index_elements=["check_in_list_id", "admitted_position_id"])
    .returning(_CHECKINS.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def record_scan(session: Session, values: Mapping[str, Any]) -> int:
    """Insert one scan (``values`` are the columns of ``checkins``) and return its id."""
    return int(session.connection().execute(_RECORD, dict(values)).scalar_one())


def admit_once(session: Session, values: Mapping[str, Any]) -> int | None:
    """Insert an admission holding the unique (list, admitted position) key and return its id, or
    None when the ticket holds it already (``INSERT … ON CONFLICT DO NOTHING``: a racing scan
    waits for the first to commit, then inserts nothing — no error, no aborted transaction)."""
    connection = session.connection()
    return connection.execute(_ADMIT[connection.dialect.name], dict(values)).scalar_one_or_none()


# -- figures ---------------------------------------------------------------------------------------


class CountedList(Protocol):
    """What counting a list's admissions needs (a :class:`CheckInList` or a :class:`Door`)."""

    @property
    def id(self) -> int: ...

    @property
    def allow_reentry(self) -> bool: ...


@dataclass(frozen=True)
class ListFigures:
    """``admitted`` distinct tickets of ``expected`` valid ones (paid, not canceled, on the list).

    Out of test mode, tickets of test-mode orders count in neither (they are refused at the door).
    """

    admitted: int
    expected: int


def admitted_counts(session: Session, event: Event, lists: Sequence[CountedList]) -> dict[int, int]:
    """Distinct tickets admitted at each of ``lists`` (of ``event``), by list id.

    Without re-entry each admission holds the unique (list, admitted position) key, so these lists
    count entries of that index alone, however many scans were refused; with it, distinct tickets of
    the admitted scans. Out of test mode the admitted test-mode tickets are found from the event's
    test-mode orders (usually none, one index lookup) and taken off.
    """
    counts = dict.fromkeys((item.id for item in lists), 0)
    once = [item.id for item in lists if not item.allow_reentry]
    again = [item.id for item in lists if item.allow_reentry]
    queries = []
    if once:
        queries.append(
            select(Checkin.check_in_list_id, func.count(Checkin.admitted_position_id))
            .where(Checkin.check_in_list_id.in_(once))
            .group_by(Checkin.check_in_list_id)
        )
    if again:
        queries.append(
            select(Checkin.check_in_list_id, func.count(distinct(Checkin.position_id)))
            .where(Checkin.check_in_list_id.in_(again), Checkin.result == ScanResult.OK)
            .group_by(Checkin.check_in_list_id)
        )
    for query in queries:
        counts.update({list_id: int(n) for list_id, n in session.execute(query)})
    if counts and not counts_test_tickets(event_test_mode=event.test_mode):
        test_admitted = session.execute(
            select(Checkin.check_in_list_id, func.count(distinct(Checkin.position_id)))
            .select_from(Order)
            .join(OrderPosition, OrderPosition.order_id == Order.id)
            .join(Checkin, Checkin.position_id == OrderPosition.id)
            .where(
                Order.event_id == event.id,
                Order.test_mode.is_(True),
                Checkin.check_in_list_id.in_(sorted(counts)),
                Checkin.result == ScanResult.OK,
            )
            .group_by(Checkin.check_in_list_id)
        )
        for list_id, n in test_admitted:
            counts[list_id] -= int(n)
    return counts


def valid_tickets_by_product(session: Session, event: Event) -> dict[int, int]:
    """Valid tickets (paid order, position not canceled) of ``event`` per product id, in one pass
    over the event's tickets (about 20 ms per 100k tickets, docs/benchmarks.md): every list's
    expected count is a sum of these."""
    conditions = [Order.event_id == event.id, Order.status == "paid", OrderPosition.canceled.is_(False)]
    if not counts_test_tickets(event_test_mode=event.test_mode):
        conditions.append(Order.test_mode.is_(False))
    rows = session.execute(
        select(OrderPosition.product_id, func.count(OrderPosition.id))
        .join(Order, Order.id == OrderPosition.order_id)
        .where(*conditions)
        .group_by(OrderPosition.product_id)
    )
    return {product_id: int(n) for product_id, n in rows}


def list_figures(
    session: Session, event: Event, lists: Sequence[CheckInList], valid: Mapping[int, int] | None = None
) -> dict[int, ListFigures]:
    """Admitted and expected tickets of each of ``lists`` (all of ``event``), by list id, with the
    event's tickets read once however many lists there are — or not at all when the caller already
    counted them (``valid``, as :func:`valid_tickets_by_product` counts). Reads ``products`` of lists
    that do not admit every product (load them with the lists)."""
    if not lists:
        return {}
    valid = valid_tickets_by_product(session, event) if valid is None else valid
    admitted = admitted_counts(session, event, lists)
    everyone = sum(valid.values())
    return {
        item.id: ListFigures(
            admitted[item.id], everyone if item.all_products else sum(valid.get(p.id, 0) for p in item.products)
        )
        for item in lists
    }


def figures(session: Session, event: Event, check_in_list: CheckInList) -> ListFigures:
    """Admitted and expected tickets of one list of ``event``; the expected count reads every valid
    ticket of the event, so the scanner asks only for admitted after a scan."""
    return list_figures(session, event, [check_in_list])[check_in_list.id]


@dataclass(frozen=True)
class CheckinFigures:
    """The dashboard's check-in figures: per list admitted of expected, and per list and product admitted."""

    lists: list[tuple[CheckInList, ListFigures]]
    by_product: list[tuple[str, str, int]]


def checkin_figures(session: Session, event: Event, valid: Mapping[int, int] | None = None) -> CheckinFigures:
    lists = lists_of_event(session, event.id)
    counted = list_figures(session, event, lists, valid)
    return CheckinFigures([(item, counted[item.id]) for item in lists], admitted_by_product(session, event) if lists else [])


def admitted_by_product(session: Session, event: Event) -> list[tuple[str, str, int]]:
    """(list name, product name, admitted tickets) of every list of the event, for the dashboard."""
    statement = (
        select(CheckInList.name, Product.name, func.count(distinct(Checkin.position_id)))
        .join(Checkin, Checkin.check_in_list_id == CheckInList.id)
        .join(OrderPosition, OrderPosition.id == Checkin.position_id)
        .join(Product, Product.id == OrderPosition.product_id)
        .where(CheckInList.event_id == event.id, Checkin.result == ScanResult.OK)
        .group_by(CheckInList.id, CheckInList.name, Product.id, Product.name)
        .order_by(CheckInList.id, Product.id)
    )
    if not counts_test_tickets(event_test_mode=event.test_mode):
        statement = statement.join(Order, Order.id == OrderPosition.order_id).where(Order.test_mode.is_(False))
    return [(r[0], r[1], int(r[2])) for r in session.execute(statement).all()]


def lists_of_event(session: Session, event_id: int) -> Sequence[CheckInList]:
    """The event's lists in the order they were made, with their products (for the figures)."""
    return (
        session.execute(
            select(CheckInList)
            .where(CheckInList.event_id == event_id)
            .order_by(CheckInList.id)
            .options(selectinload(CheckInList.products))
        )
        .scalars()
        .all()
    )
