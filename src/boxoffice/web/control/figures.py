"""The back office's figures of the catalogue: seats per quota, sales per product.

Sales leave test-mode orders out; seats count every order that holds them, test orders included,
because those seats are really taken until the test orders are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from boxoffice.catalogue.models import Event, Product, Quota, product_quotas
from boxoffice.kit.money import ZERO
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.rules import OrderStatus


def real_orders(session: Session, event: Event) -> list[ColumnElement[bool]]:
    """The condition that leaves test-mode orders out — only when the event has any, so the counts
    of an event without test orders stay answered from their indexes alone."""
    has_test = session.execute(
        select(Order.id).where(Order.event_id == event.id, Order.test_mode.is_(True)).limit(1)
    ).first()
    return [Order.test_mode.is_(False)] if has_test else []


@dataclass(frozen=True)
class QuotaFigures:
    quota: Quota
    held: int  # by pending orders
    paid: int

    @property
    def fill_percent(self) -> int | None:
        """How full the quota is (seats taken of its size), or None when unlimited."""
        if self.quota.size is None:
            return None
        return 100 if self.quota.size == 0 else min(100, round(100 * self.quota.used / self.quota.size))


@dataclass(frozen=True)
class ProductFigures:
    product: Product
    sold: int
    revenue: Decimal


def quota_figures(session: Session, event: Event) -> list[QuotaFigures]:
    """Each quota of ``event`` with the seats pending and paid orders hold in it."""
    quotas = session.execute(
        select(Quota).where(Quota.event_id == event.id).order_by(Quota.name, Quota.id).options(selectinload(Quota.products))
    ).scalars().all()
    counts = session.execute(
        select(product_quotas.c.quota_id, Order.status, func.count(OrderPosition.id))
        .join(OrderPosition, OrderPosition.product_id == product_quotas.c.product_id)
        .join(Order, Order.id == OrderPosition.order_id)
        .where(
            Order.event_id == event.id, Order.holds_quota.is_(True), OrderPosition.canceled.is_(False),
            Order.status.in_([OrderStatus.PENDING, OrderStatus.PAID]),
        )
        .group_by(product_quotas.c.quota_id, Order.status)
    ).all()
    seats = {(quota_id, status): n for quota_id, status, n in counts}
    return [
        QuotaFigures(q, seats.get((q.id, OrderStatus.PENDING), 0), seats.get((q.id, OrderStatus.PAID), 0))
        for q in quotas
    ]


def product_figures(session: Session, event: Event) -> list[ProductFigures]:
    """Tickets sold and revenue per product: live positions of paid orders, test-mode orders left out."""
    products = session.execute(
        select(Product).where(Product.event_id == event.id).order_by(Product.position, Product.id)
        .options(selectinload(Product.quotas))
    ).scalars().all()
    rows = session.execute(
        select(OrderPosition.product_id, func.count(OrderPosition.id), func.sum(OrderPosition.price))
        .join(Order, Order.id == OrderPosition.order_id)
        .where(
            Order.event_id == event.id, Order.status == OrderStatus.PAID, Order.test_mode.is_(False),
            OrderPosition.canceled.is_(False),
        )
        .group_by(OrderPosition.product_id)
    ).all()
    sales = {product_id: (n, Decimal(total or 0)) for product_id, n, total in rows}
    return [ProductFigures(p, *sales.get(p.id, (0, ZERO))) for p in products]


def ordered_products(session: Session, event: Event) -> set[int]:
    """Ids of the event's products that any order ever held (they can be deactivated, not deleted)."""
    return set(
        session.execute(
            select(OrderPosition.product_id).distinct()
            .join(Product, Product.id == OrderPosition.product_id)
            .where(Product.event_id == event.id)
        ).scalars()
    )
