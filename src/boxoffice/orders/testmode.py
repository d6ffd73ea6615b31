"""Deleting an event's test-mode orders before it goes live, with everything recorded about them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from boxoffice.activity import service as activity
from boxoffice.catalogue.models import Event
from boxoffice.db import Base
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.repository import quota_ids_by_product, release_seats
from boxoffice.orders.rules import quota_demand


def _dependents(table: Table) -> list[tuple[Table, str]]:
    """Every (table, column) whose foreign key points at ``table``'s rows."""
    from boxoffice import models_registry  # noqa: F401 - every table known, whoever added it

    found = []
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is table and "id" in other.c:
                found.append((other, fk.parent.name))
    return found


def _purge(session: Session, table: Table, ids: list[int]) -> None:
    """Delete rows ``ids`` of ``table`` and, first, every row that refers to them (depth first)."""
    if not ids:
        return
    for other, column in _dependents(table):
        if other is table:
            continue
        refs = list(session.execute(select(other.c.id).where(other.c[column].in_(ids))).scalars())
        _purge(session, other, refs)
    session.execute(delete(table).where(table.c.id.in_(ids)))


def delete_test_orders(session: Session, event: Event, *, actor: str) -> int:
    """Delete every test-mode order of ``event`` with its payments, refunds, mails and log; give their
    seats back. Real orders are never touched. Returns how many were deleted."""
    orders = list(
        session.execute(select(Order).where(Order.event_id == event.id, Order.test_mode.is_(True)).with_for_update())
        .scalars()
    )
    if not orders:
        return 0
    ids = [o.id for o in orders]
    holding = [o.id for o in orders if o.holds_quota]
    if holding:
        products = Counter(
            session.execute(
                select(OrderPosition.product_id).where(
                    OrderPosition.order_id.in_(holding), OrderPosition.canceled.is_(False)
                )
            ).scalars()
        )
        quotas = quota_ids_by_product(session, sorted(products))
        release_seats(session, quota_demand((p, quotas[p]) for p, n in products.items() for _ in range(n)))
    _purge(session, Order.__table__, ids)  # type: ignore[arg-type]
    activity.record(
        session, organizer_id=event.organizer_id, event_id=event.id, actor=actor, action="event.test-orders-deleted",
        subject=f"event:{event.id}", after={"orders": len(ids)},
    )
    return len(ids)
