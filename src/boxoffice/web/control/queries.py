"""Read-only queries of the control panel: dashboard warnings, sales over time, the orders list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from boxoffice.books.rollup import money_per_day
from boxoffice.catalogue.models import Event
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order
from boxoffice.orders.rules import OrderStatus
from boxoffice.payments.janitor import unresolved_attempts
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import PaymentStateOfOrder
from boxoffice.providers.banktransfer.models import BankTransaction
from boxoffice.providers.banktransfer.rules import OPEN_STATES
from boxoffice.web.control.figures import real_orders

PAGE_SIZE = 50
ORDER_STATUSES = tuple(s.value for s in OrderStatus)
PAYMENT_STATES = tuple(s.value for s in PaymentStateOfOrder)


@dataclass(frozen=True)
class Warning:
    """One dashboard tile: what needs attention, how many, and the list that shows them."""

    key: str
    label: str
    count: int
    link: str


def _count(session: Session, *where: object) -> int:
    # count(*), not count(orders.id): the id is not in the (event_id, payment_state) and
    # (event_id, has_open_refund) indexes, so counting it reads every matching row from the table
    # (~250 ms for 50,000 rows at a million orders); count(*) is answered from the index alone.
    statement = select(func.count()).select_from(Order).where(*where)  # type: ignore[arg-type]
    return int(session.execute(statement).scalar_one())


def unmatched_transfers(session: Session, event_id: int) -> int:
    """Bank statement lines waiting for the organizer to assign or discard them."""
    return int(
        session.execute(
            select(func.count(BankTransaction.id)).where(
                BankTransaction.event_id == event_id, BankTransaction.state.in_(list(OPEN_STATES))
            )
        ).scalar_one()
    )


def warnings(session: Session, event: Event, base: str) -> list[Warning]:
    """What the organizer should look at, with counts and links to the filtered lists (test orders left out)."""
    mine = [Order.event_id == event.id, *real_orders(session, event)]
    orders = f"{base}orders/"
    found = [
        Warning("overpaid", "Overpaid orders", _count(session, *mine, Order.payment_state == "overpaid"),
                f"{orders}?payment_state=overpaid"),
        Warning("pending-fully-paid", "Paid in full but not marked paid",
                _count(session, *mine, Order.payment_state == "pending-fully-paid"),
                f"{orders}?payment_state=pending-fully-paid"),
        Warning("underpaid", "Underpaid (money owed either way)",
                _count(session, *mine, Order.payment_state == "underpaid"), f"{orders}?payment_state=underpaid"),
        Warning("open-refunds", "Open refunds (created, transit, external)",
                _count(session, *mine, Order.has_open_refund.is_(True)), f"{orders}?open_refund=on"),
    ]
    found.append(Warning("unmatched", "Unmatched bank transfers", unmatched_transfers(session, event.id), f"{base}bank/"))
    stuck = stuck_attempts(session, event)
    found.append(Warning("stuck", "Stuck payments and refunds", len(stuck), f"{base}#stuck"))
    return found


def stuck_attempts(session: Session, event: Event) -> list[Payment | Refund]:
    """The janitor's unresolved attempts of this event (it answers per organizer)."""
    return [a for a in unresolved_attempts(session, event.organizer_id) if a.order.event_id == event.id]


@dataclass(frozen=True)
class DailyTotals:
    """Money per day (UTC days) of the last ``days`` days: orders placed, payments received, refunds done."""

    days: list[date]
    sales: list[Decimal]
    payments: list[Decimal]
    refunds: list[Decimal]


def daily_totals(session: Session, event: Event, days: int = 30) -> DailyTotals:
    """Read from the per-day rollup (:mod:`boxoffice.books.rollup`): a few rows per day, however
    many orders the event has (summing the orders themselves took a second at a million)."""
    since = now().date() - timedelta(days=days - 1)
    figures = money_per_day(session, event.id, since)
    span = [since + timedelta(days=i) for i in range(days)]
    nothing = (Decimal(0), Decimal(0), Decimal(0))
    rows = [figures.get(d, nothing) for d in span]
    return DailyTotals(span, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


@dataclass(frozen=True)
class OrderFilter:
    """The orders list's filters, named like the API's (``filter[payment-state]`` and so on)."""

    status: str = ""
    payment_state: str = ""
    open_refund: bool = False
    search: str = ""

    def query(self, event_id: int) -> Select[Order]:
        stmt = select(Order).where(Order.event_id == event_id)
        if self.status in ORDER_STATUSES:
            stmt = stmt.where(Order.status == self.status)
        if self.payment_state in PAYMENT_STATES:
            stmt = stmt.where(Order.payment_state == self.payment_state)
        if self.open_refund:
            stmt = stmt.where(Order.has_open_refund.is_(True))
        if self.search:
            term = self.search.strip()
            stmt = stmt.where(or_(Order.code == term.upper(), Order.email.ilike(f"{_escape(term)}%", escape="\\")))
        return stmt


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class OrderPage:
    orders: Sequence[Order]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def list_orders(session: Session, event_id: int, filters: OrderFilter, number: int) -> OrderPage:
    """One numbered page of the event's orders matching ``filters``, newest first."""
    stmt = filters.query(event_id)
    total = int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())
    number = min(max(number, 1), max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))
    orders = session.execute(
        stmt.order_by(Order.id.desc()).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).scalars().all()
    return OrderPage(orders, number, total)
