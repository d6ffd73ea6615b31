"""Read-only queries of the catalogue that the request path needs before it writes anything."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Product, Quota, product_quotas
from boxoffice.errors import QuotaExceeded


def sold_out(quota_id: int, name: str) -> QuotaExceeded:
    """The refusal of a buyer whose tickets do not fit in quota ``quota_id`` any more."""
    return QuotaExceeded(f"Not enough tickets left in '{name}'.", meta={"quota": str(quota_id)})


def short_quota(session: Session, event_id: int, quantities: Mapping[int, int]) -> QuotaExceeded | None:
    """The refusal for an order of ``quantities`` (product id → tickets) of ``event_id`` when one of
    its quotas has fewer seats left than it asks for, else None — one indexed ``SELECT``, no lock.

    A sold-out quota is then refused without writing anything. It is only a first look: seats are
    taken by the conditional ``UPDATE`` of the order's transaction, which stays the one that decides
    (a seat freed or taken meanwhile is seen there). An order naming a product that is not the
    event's or not on sale is left to the order's own validation; the quota named is the first
    short one by id, as :func:`boxoffice.orders.repository.reserve_seats` names it.
    """
    rows = session.execute(
        select(Product.id, Quota.id, Quota.name, Quota.size, Quota.used)
        .outerjoin(product_quotas, product_quotas.c.product_id == Product.id)
        .outerjoin(Quota, Quota.id == product_quotas.c.quota_id)
        .where(Product.id.in_(sorted(quantities)), Product.event_id == event_id, Product.active.is_(True))
    ).all()
    if {row[0] for row in rows} != set(quantities):
        return None  # a product the order refuses on its own terms
    demand: dict[int, int] = {}
    left: dict[int, tuple[str, int]] = {}
    for product_id, quota_id, name, size, used in rows:
        if quota_id is None or size is None:
            continue
        demand[quota_id] = demand.get(quota_id, 0) + quantities[product_id]
        left[quota_id] = (name, size - used)
    for quota_id in sorted(demand):
        name, seats = left[quota_id]
        if demand[quota_id] > seats:
            return sold_out(quota_id, name)
    return None
