"""Changing an order after it was placed (or paid): one atomic operation, a new total, a new balance.

Money owed after the change sends a paid order back to pending with a new deadline (or, per event
setting ``change-underpaid-policy: keep-paid``, keeps it paid and shows ``underpaid``); money to give
back yields a refund proposal across the confirmed payments, which the organizer executes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from boxoffice.errors import Conflict, InvalidValue
from boxoffice.kit.clock import now
from boxoffice.kit.money import normalize
from boxoffice.orders import audit
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.repository import (
    lock_order,
    products_of_event,
    quota_ids_by_product,
    release_seats,
    reserve_seats,
)
from boxoffice.orders.rules import ORDER_MOVES, OrderStatus, order_total
from boxoffice.orders.service import LineItem, deadline_for, recompute_total
from boxoffice.payments.checkout import reprice_payment_fee
from boxoffice.payments.refunding import propose

POINTER = "/data/attributes"


@dataclass(frozen=True)
class OrderChange:
    """What to change; all parts apply together or not at all."""

    add: Sequence[LineItem] = ()
    remove: Sequence[int] = ()
    set_price: Sequence[tuple[int, Decimal]] = ()
    set_product: Sequence[tuple[int, int]] = ()

    @property
    def empty(self) -> bool:
        return not (self.add or self.remove or self.set_price or self.set_product)


@dataclass
class ChangeResult:
    order: Order
    total_before: Decimal
    total_after: Decimal
    # (payment id, amount) pairs proposed to give back what is now overpaid; executed by the caller.
    refund_proposal: list[tuple[int, Decimal]] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        return self.total_after - self.total_before


def _snapshot(order: Order) -> list[dict[str, object]]:
    return [{"position": p.id, "product": p.product_id, "price": p.price} for p in order.live_positions]


def _quota_demand(session: Session, product_ids: Sequence[int]) -> Counter[int]:
    quotas = quota_ids_by_product(session, sorted(set(product_ids)))
    demand: Counter[int] = Counter()
    for product_id in product_ids:
        demand.update(quotas[product_id])
    return demand


def change_order(session: Session, order_id: int, change: OrderChange, *, actor: str) -> ChangeResult:
    """Apply ``change`` to the order atomically: quota for what is added, a new total and balance."""
    if change.empty:
        raise InvalidValue("The change is empty: add, remove, set-price or set-product something.", pointer=POINTER)
    order = lock_order(session, order_id)
    if order.status not in (OrderStatus.PENDING, OrderStatus.PAID):
        raise Conflict(
            f"Order {order.code} is {order.status}; only pending or paid orders can change.",
            code="order-not-changeable",
        )
    live = {p.id: p for p in order.live_positions}
    touched: set[int] = set()
    for field_name, ids in (
        ("remove", change.remove),
        ("set-price", [p for p, _ in change.set_price]),
        ("set-product", [p for p, _ in change.set_product]),
    ):
        for index, position_id in enumerate(ids):
            if position_id not in live:
                raise InvalidValue(
                    f"Position {position_id} is not a live position of order {order.code}.",
                    pointer=f"{POINTER}/{field_name}/{index}",
                    code="unknown-position",
                )
            if field_name != "remove" and position_id in change.remove:
                raise InvalidValue(
                    f"Position {position_id} is removed and changed at once.", pointer=f"{POINTER}/{field_name}/{index}"
                )
            touched.add(position_id)
    if len(set(change.remove)) != len(change.remove):
        raise InvalidValue("A position is removed twice.", pointer=f"{POINTER}/remove")
    added = sum(item.quantity for item in change.add)
    if len(live) - len(set(change.remove)) + added < 1:
        raise InvalidValue(
            "An order keeps at least one position; cancel the order instead.",
            pointer=f"{POINTER}/remove",
            code="last-position",
        )
    currency = order.currency
    prices: dict[int, Decimal] = {}
    for index, (position_id, price) in enumerate(change.set_price):
        if price < 0:
            raise InvalidValue("A price is zero or more.", pointer=f"{POINTER}/set-price/{index}/price")
        try:
            prices[position_id] = normalize(price, currency)
        except InvalidValue as exc:
            raise InvalidValue(exc.detail, pointer=f"{POINTER}/set-price/{index}/price") from exc
    for index, item in enumerate(change.add):
        if item.quantity < 1:
            raise InvalidValue("Quantities must be at least 1.", pointer=f"{POINTER}/add/{index}/quantity")
    wanted = [i.product_id for i in change.add] + [p for _, p in change.set_product]
    products = products_of_event(session, order.event_id, wanted)
    for index, item in enumerate(change.add):
        if item.product_id not in products or not products[item.product_id].active:
            raise InvalidValue(
                f"Product {item.product_id} is not on sale for this event.",
                pointer=f"{POINTER}/add/{index}/product",
                code="unknown-product",
            )
    for index, (_, product_id) in enumerate(change.set_product):
        if product_id not in products or not products[product_id].active:
            raise InvalidValue(
                f"Product {product_id} is not on sale for this event.",
                pointer=f"{POINTER}/set-product/{index}/product",
                code="unknown-product",
            )

    before = {"total": order.total, "positions": _snapshot(order)}
    total_before = order.total
    if order.holds_quota:
        taken = [i.product_id for i in change.add for _ in range(i.quantity)] + [p for _, p in change.set_product]
        given = [live[p].product_id for p in change.remove] + [live[p].product_id for p, _ in change.set_product]
        demand, freed = _quota_demand(session, taken), _quota_demand(session, given)
        # Seats moving between products of the same quota need no quota check.
        net_take = {q: n - freed.get(q, 0) for q, n in demand.items() if n > freed.get(q, 0)}
        net_give = {q: n - demand.get(q, 0) for q, n in freed.items() if n > demand.get(q, 0)}
        reserve_seats(session, net_take)
        release_seats(session, net_give)

    for position_id in change.remove:
        live[position_id].canceled = True
    for position_id, price in prices.items():
        live[position_id].price = price
    for position_id, product_id in change.set_product:
        live[position_id].product_id = product_id
        if position_id not in prices:
            live[position_id].price = products[product_id].price
    for item in change.add:
        for _ in range(item.quantity):
            order.positions.append(OrderPosition(product_id=item.product_id, price=products[item.product_id].price))
    session.flush()
    recompute_total(session, order)
    reprice_payment_fee(session, order, actor)
    assert order.total == order_total((p.price for p in order.live_positions), (f.value for f in order.live_fees))

    audit.record(
        session,
        order,
        actor,
        "order.changed",
        before=before,
        after={"total": order.total, "positions": _snapshot(order)},
    )
    _settle_status(session, order, actor)
    result = ChangeResult(order, total_before, order.total)
    if order.pending_sum < 0:
        result.refund_proposal = propose(session, order.id, -order.pending_sum)
    return result


def _settle_status(session: Session, order: Order, actor: str) -> None:
    """Move the order to the status its new balance calls for."""
    policy = (order.event.settings or {}).get("change-underpaid-policy", "pending")
    if order.status == OrderStatus.PAID and order.pending_sum > 0 and policy != "keep-paid":
        ORDER_MOVES.check(order.status, OrderStatus.PENDING)
        order.status = OrderStatus.PENDING
        order.expires_at = deadline_for(order.event, now())
        audit.record(
            session,
            order,
            actor,
            "order.pending",
            reason="changed; money is owed",
            owed=order.pending_sum,
            expires_at=order.expires_at,
        )
        recompute_total(session, order)
    elif order.status == OrderStatus.PENDING and order.pending_sum <= 0:
        ORDER_MOVES.check(order.status, OrderStatus.PAID)
        order.status = OrderStatus.PAID
        order.paid_at = now()
        audit.record(session, order, actor, "order.paid", before="pending", reason="changed; nothing left to pay")
        recompute_total(session, order)
