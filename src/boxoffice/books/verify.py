"""``boxoffice books verify``: recompute every order's balance and seat count and report drift."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Quota, product_quotas
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.payments import rules
from boxoffice.payments.models import Payment, Refund


@dataclass(frozen=True)
class Drift:
    subject: str
    field: str
    stored: str
    expected: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.field} is {self.stored}, expected {self.expected}"


def _sums(
    session: Session, model: type[Payment] | type[Refund], order_ids: list[int]
) -> dict[int, list[tuple[str, Decimal]]]:
    rows = session.execute(
        select(model.order_id, model.state, func.sum(model.amount))
        .where(model.order_id.in_(order_ids))
        .group_by(model.order_id, model.state)
    ).all()
    result: dict[int, list[tuple[str, Decimal]]] = {}
    for order_id, state, amount in rows:
        result.setdefault(order_id, []).append((state, Decimal(amount)))
    return result


def order_drift(session: Session, batch_size: int = 2000) -> Iterator[Drift]:
    """Every order whose stored balance differs from the one its attempts give, in batches."""
    last_id = 0
    while True:
        orders = (
            session.execute(select(Order).where(Order.id > last_id).order_by(Order.id).limit(batch_size))
            .scalars()
            .all()
        )
        if not orders:
            return
        ids = [o.id for o in orders]
        payments, refunds = _sums(session, Payment, ids), _sums(session, Refund, ids)
        for order in orders:
            bal = rules.balance(
                total=order.total,
                order_status=order.status,
                payments=payments.get(order.id, []),
                refunds=refunds.get(order.id, []),
            )
            subject = f"order {order.code} (id {order.id})"
            for field, stored, expected in (
                ("payment_total", order.payment_total, bal.payment_total),
                ("refund_total", order.refund_total, bal.refund_total),
                ("pending_sum", order.pending_sum, bal.pending_sum),
                ("payment_state", order.payment_state, bal.payment_state.value),
                ("has_open_refund", order.has_open_refund, bal.has_open_refund),
            ):
                if stored != expected:
                    yield Drift(subject, field, str(stored), str(expected))
        last_id = ids[-1]
        session.expunge_all()


def quota_drift(session: Session) -> Iterator[Drift]:
    """Every quota whose ``used`` differs from the seats its pending and paid orders hold."""
    held: dict[int, int] = dict(
        session.execute(
            select(product_quotas.c.quota_id, func.count(OrderPosition.id))
            .join(OrderPosition, OrderPosition.product_id == product_quotas.c.product_id)
            .join(Order, Order.id == OrderPosition.order_id)
            .where(Order.holds_quota.is_(True), OrderPosition.canceled.is_(False))
            .group_by(product_quotas.c.quota_id)
        ).all()
    )
    for quota in session.execute(select(Quota).order_by(Quota.id)).scalars():
        expected = held.get(quota.id, 0)
        if quota.used != expected:
            yield Drift(f"quota '{quota.name}' (id {quota.id})", "used", str(quota.used), str(expected))
        if quota.size is not None and quota.used > quota.size:
            yield Drift(f"quota '{quota.name}' (id {quota.id})", "oversold", str(quota.used), f"<= {quota.size}")


def verify(session: Session) -> list[Drift]:
    return [*order_drift(session), *quota_drift(session)]
