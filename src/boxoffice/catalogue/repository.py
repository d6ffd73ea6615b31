"""Read-only queries of the catalogue that the request path needs before it writes anything."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, joinedload

from boxoffice.catalogue.models import Event, Product, Quota, product_quotas
from boxoffice.errors import QuotaExceeded


def sold_out(quota_id: int, name: str) -> QuotaExceeded:
    """The refusal of a buyer whose tickets do not fit in quota ``quota_id`` any more."""
    return QuotaExceeded(f"Not enough tickets left in '{name}'.", meta={"quota": str(quota_id)})


@dataclass(frozen=True)
class Shelf:
    """The event's products an order asks for, as read in one query: each product, the ids of the
    quotas it counts against, and the seats each sized quota had left then."""

    products: dict[int, Product]
    quotas: dict[int, list[int]]
    left: dict[int, tuple[str, int]]

    def refusal(self, quantities: Mapping[int, int]) -> QuotaExceeded | None:
        """The refusal for ``quantities`` (product id → tickets) when a quota had fewer seats left
        than they ask for, else None.

        Only a first look, taken before anything is written so a sold-out quota costs no write: seats
        are taken by the conditional ``UPDATE`` of the order's transaction, which stays the one that
        decides (a seat freed or taken meanwhile is seen there). An order naming a product that is
        not the event's or not on sale is left to the order's own validation; the quota named is the
        first short one by id, as :func:`boxoffice.orders.repository.reserve_seats` names it.
        """
        if any(pid not in self.products or not self.products[pid].active for pid in quantities):
            return None  # a product the order refuses on its own terms
        demand: dict[int, int] = {}
        for product_id, count in quantities.items():
            for quota_id in self.quotas[product_id]:
                if quota_id in self.left:
                    demand[quota_id] = demand.get(quota_id, 0) + count
        for quota_id in sorted(demand):
            name, seats = self.left[quota_id]
            if demand[quota_id] > seats:
                return sold_out(quota_id, name)
        return None


def shelf(session: Session, event_id: int, product_ids: Iterable[int]) -> Shelf:
    """The :class:`Shelf` of ``product_ids`` of ``event_id``: one indexed ``SELECT``, no lock."""
    wanted = sorted(set(product_ids))
    statement = select(Product, *_QUOTA_COLUMNS).where(Product.event_id == event_id, Product.id.in_(wanted))
    return _shelf_of(wanted, session.execute(_with_quotas(statement)).all())


def event_and_shelf(session: Session, event_id: int, product_ids: Iterable[int]) -> tuple[Event | None, Shelf]:
    """Event ``event_id`` with its organizer (None when there is none) and the :class:`Shelf` of
    ``product_ids``, in one ``SELECT`` (the event's row repeated on each product's): what the
    sold-out look reads before an order writes anything."""
    wanted = sorted(set(product_ids))
    statement = (
        select(Event, Product, *_QUOTA_COLUMNS)
        .options(joinedload(Event.organizer))
        .outerjoin(Product, and_(Product.event_id == Event.id, Product.id.in_(wanted)))
        .where(Event.id == event_id)
    )
    rows = session.execute(_with_quotas(statement)).all()
    event = rows[0][0] if rows else None
    return event, _shelf_of(wanted, [row[1:] for row in rows if row[1] is not None])


_QUOTA_COLUMNS = (Quota.id, Quota.name, Quota.size, Quota.used)
SelectT = TypeVar("SelectT", bound=Select)


def _with_quotas(statement: SelectT) -> SelectT:
    """``statement`` joined to the quotas of its products (none for a product without any)."""
    return statement.outerjoin(product_quotas, product_quotas.c.product_id == Product.id).outerjoin(
        Quota, Quota.id == product_quotas.c.quota_id
    )


def _shelf_of(wanted: list[int], rows: Sequence[Any]) -> Shelf:
    """Fold rows of (product, quota id, quota name, size, used) into a :class:`Shelf`."""
    found = Shelf({}, {pid: [] for pid in wanted}, {})
    for product, quota_id, name, size, used in rows:
        found.products[product.id] = product
        if quota_id is not None:
            found.quotas[product.id].append(quota_id)
            if size is not None:
                found.left[quota_id] = (name, size - used)
    return found
