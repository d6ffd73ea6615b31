"""Queries and row locks for orders and quotas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from boxoffice.catalogue.models import Event, Product, Quota, product_quotas
from boxoffice.catalogue.repository import sold_out
from boxoffice.db import dialect_insert, lock_row
from boxoffice.errors import NotFound
from boxoffice.kit.codes import new_order_code
from boxoffice.orders.models import Order


def lock_order(session: Session, order_id: int, *, with_fees: bool = False) -> Order:
    """Load ``order_id`` with its row locked for the rest of the transaction (``SELECT … FOR UPDATE``),
    its event and organizer read in the same query (and with ``with_fees`` its fee lines, in the next
    one), so the use case never loads them lazily. Once locked, the order is not read again
    (``db.lock_row``)."""
    loads: list[Any] = [joinedload(Order.event).joinedload(Event.organizer)]
    if with_fees:
        # Not joined into the locking SELECT: when it waits for another transaction's lock,
        # PostgreSQL re-reads only the locked row and keeps the joined rows of its older snapshot,
        # so fees that transaction added or canceled would be missed. A statement of its own, run
        # once the lock is held, sees them (read committed: each statement takes a new snapshot).
        loads.append(selectinload(Order.fees))
    return lock_row(session, Order, order_id, *loads)


def insert_order(session: Session, draft: Order) -> Order:
    """Write the new order ``draft`` describes under a fresh code, and return it as stored.

    ``INSERT … ON CONFLICT (event_id, code) DO NOTHING RETURNING``: a code the event already gave
    out costs another try, a free one costs no ``SELECT`` first. ``draft`` itself stays out of the
    session; the order returned holds an empty list of positions for the caller to fill.
    """
    columns = {attr.key: draft.__dict__[attr.key] for attr in inspect(Order).column_attrs if attr.key in draft.__dict__}
    while True:
        statement = dialect_insert(session, Order).values(**columns, code=new_order_code())
        statement = statement.on_conflict_do_nothing(index_elements=["event_id", "code"])
        order = session.scalars(statement.returning(Order)).one_or_none()
        if order is not None:
            set_committed_value(order, "positions", [])  # it is new: no query for the ones it has
            return order


def get_order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id, options=[selectinload(Order.positions)])
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", parameter="id")
    return order


def quota_ids_by_product(session: Session, product_ids: list[int]) -> dict[int, list[int]]:
    rows = session.execute(
        select(product_quotas.c.product_id, product_quotas.c.quota_id).where(
            product_quotas.c.product_id.in_(product_ids)
        )
    ).all()
    result: dict[int, list[int]] = {pid: [] for pid in product_ids}
    for product_id, quota_id in rows:
        result[product_id].append(quota_id)
    return result


def reserve_seats(session: Session, demand: Mapping[int, int]) -> None:
    """Take ``demand[quota_id]`` seats from each quota, or none at all.

    Each quota is one conditional ``UPDATE … WHERE used + n <= size``: the database serializes
    concurrent buyers on the quota row alone, and a buyer who loses the race sees zero rows updated.
    Quotas are updated in id order so two orders never wait on each other in a cycle.
    """
    for quota_id in sorted(demand):
        seats = demand[quota_id]
        result = session.execute(
            update(Quota)
            .where(Quota.id == quota_id, or_(Quota.size.is_(None), Quota.used + seats <= Quota.size))
            .values(used=Quota.used + seats)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            quota = session.get(Quota, quota_id)
            raise sold_out(quota_id, quota.name if quota else str(quota_id))


def overbook_seats(session: Session, demand: Mapping[int, int]) -> None:
    """Take seats whether or not the quotas have them left: the organizer over-books on purpose."""
    for quota_id in sorted(demand):
        session.execute(
            update(Quota)
            .where(Quota.id == quota_id)
            .values(used=Quota.used + demand[quota_id])
            .execution_options(synchronize_session=False)
        )


def release_seats(session: Session, demand: Mapping[int, int]) -> None:
    """Give seats back to their quotas (expiry, cancellation, removed positions)."""
    for quota_id in sorted(demand):
        session.execute(
            update(Quota)
            .where(Quota.id == quota_id)
            .values(used=Quota.used - demand[quota_id])
            .execution_options(synchronize_session=False)
        )


def products_of_event(session: Session, event_id: int, product_ids: list[int]) -> dict[int, Product]:
    rows = session.execute(select(Product).where(Product.event_id == event_id, Product.id.in_(product_ids))).scalars()
    return {p.id: p for p in rows}
