"""Use cases of orders. Each runs in the caller's transaction and writes the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from boxoffice.books import rollup
from boxoffice.catalogue import rules as catalogue_rules
from boxoffice.catalogue.models import Event
from boxoffice.catalogue.repository import Shelf, shelf
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.kit.codes import new_secret
from boxoffice.kit.money import ZERO, format_amount, normalize
from boxoffice.orders import audit, transitions
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order, OrderFee, OrderPosition
from boxoffice.orders.repository import (
    insert_order,
    lock_order,
    reserve_seats,
)
from boxoffice.orders.rules import ORDER_MOVES, OrderStatus, expiry_deadline, order_total, quota_demand
from boxoffice.payments import service as payments
from boxoffice.payments.balance import refresh_balance, write_balance
from boxoffice.payments.models import Payment
from boxoffice.payments.repository import lock_refund, order_id_of_refund
from boxoffice.payments.rules import OPEN_PAYMENT_STATES, RefundState, balance

MAX_POSITIONS = 100


@dataclass(frozen=True)
class LineItem:
    product_id: int
    quantity: int


def deadline_for(event: Event, placed_at: datetime) -> datetime:
    """The payment deadline of an order of ``event`` placed (or returned to pending) at ``placed_at``."""
    policy = event.settings or {}
    last = policy.get("last-payment-date")
    return expiry_deadline(
        placed_at,
        minutes=policy.get("expiry-minutes"),
        days=policy.get("expiry-days"),
        skip_weekends=bool(policy.get("expiry-skip-weekends", False)),
        last_date=datetime.fromisoformat(last) if last else None,
    )


def place_order(
    session: Session,
    event_id: int,
    *,
    email: str | None,
    items: Sequence[LineItem],
    actor: str,
    payment_mode: str | None = None,
    locale: str = "en",
    looked: Shelf | None = None,
) -> Order:
    """Place a pending order: check and reserve quota for every ticket, set the deadline.

    A free order (total 0) is paid at once through the ``free`` provider. ``looked`` is the shelf of
    the order's products when the caller has just read it (the API's sold-out look): not read again.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", pointer="/data/relationships/event")
    if not event.live:
        raise Conflict(f"{event.name} is not on sale.", pointer="/data/relationships/event", code="event-not-live")
    if not items:
        raise InvalidValue("An order needs at least one ticket.", pointer="/data/attributes/positions")
    quantity = 0
    for index, item in enumerate(items):
        if item.quantity < 1:
            raise InvalidValue("Quantities must be at least 1.", pointer=f"/data/attributes/positions/{index}/quantity")
        quantity += item.quantity
    if quantity > MAX_POSITIONS:
        raise InvalidValue(f"At most {MAX_POSITIONS} tickets fit in one order.", pointer="/data/attributes/positions")
    product_ids = sorted({i.product_id for i in items})
    if looked is None:
        found = shelf(session, event.id, product_ids)
        products = found.products
    else:  # read a moment ago, in the look before this transaction: no second SELECT
        found = looked
        products = {pid: session.merge(product, load=False) for pid, product in found.products.items()}
    quotas = found.quotas
    placed_at = now()
    per_product: dict[int, int] = {}
    for index, item in enumerate(items):
        product = products.get(item.product_id)
        if product is None or not product.active:
            raise InvalidValue(
                f"Product {item.product_id} is not on sale for this event.",
                pointer=f"/data/attributes/positions/{index}/product",
                code="unknown-product",
            )
        refusal = catalogue_rules.sale_refusal(
            name=product.name, available_from=product.available_from, available_until=product.available_until,
            moment=placed_at,
        )
        if refusal:
            raise InvalidValue(refusal, pointer=f"/data/attributes/positions/{index}/product", code="not-on-sale")
        per_product[product.id] = per_product.get(product.id, 0) + item.quantity
        if product.max_per_order is not None and per_product[product.id] > product.max_per_order:
            raise InvalidValue(
                f"At most {product.max_per_order} of {product.name} fit in one order.",
                pointer=f"/data/attributes/positions/{index}/quantity",
                code="too-many",
            )

    demand = quota_demand((item.product_id, quotas[item.product_id]) for item in items for _ in range(item.quantity))

    total = order_total((products[item.product_id].price for item in items for _ in range(item.quantity)), ())
    draft = Order(
        event_id=event.id,
        secret=new_secret(),
        email=email,
        status=OrderStatus.PENDING,
        total=total,
        payment_mode=payment_mode,
        expires_at=deadline_for(event, placed_at),
        created_at=placed_at,
        holds_quota=True,
        locale=locale,
        test_mode=event.test_mode,
    )
    # A new order has no payments or refunds yet: its balance needs no query and goes into the INSERT.
    write_balance(draft, balance(total=total, order_status=draft.status, payments=(), refunds=()))
    order = insert_order(session, draft)
    set_committed_value(order, "event", event)
    for item in items:
        for _ in range(item.quantity):
            product = products[item.product_id]
            order.positions.append(OrderPosition(product=product, price=product.price))
    session.flush()
    if order.total != ZERO:
        # A new order has no payments, refunds or fees: what reads them next (the answer, the mail
        # rendered before the commit) needs no query. A free order's payment is inserted below by
        # its id, not through the collection, so it is read.
        for empty in ("payments", "refunds", "fees"):
            set_committed_value(order, empty, [])
    rollup.follow_sale(session, order, status_before=None, total_before=None)
    audit.record(
        session,
        order,
        actor,
        Action.ORDER_PLACED,
        total=order.total,
        email=email,
        positions=[{"product": i.product_id, "quantity": i.quantity} for i in items],
    )
    # Seats are taken last: the quota row stays locked from this UPDATE until the commit, so every
    # other buyer of the quota waits only for that, not for the order's inserts (docs/benchmarks.md).
    # A refusal raises and the caller's transaction rolls the order back with it.
    reserve_seats(session, demand)
    if order.total == ZERO:
        free = payments.start_payment(session, order.id, provider="free", actor=actor, amount=ZERO)
        payments.confirm_payment(session, free.id, actor=actor)
    return order


def set_payment_fee(
    session: Session, order: Order, *, provider: str, value: Decimal, description: str
) -> OrderFee | None:
    """Replace the order's payment fee not paid yet with the one of ``provider`` (zero removes it);
    fees already paid stay. Returns the new fee line."""
    open_fees = order.open_payment_fees
    if not open_fees and value <= 0:
        return None  # no fee before, none now: the total and the balance stand as they are
    for fee in open_fees:
        fee.canceled = True
    line = None
    if value > 0:
        line = OrderFee(fee_type="payment", provider=provider, value=value, description=description)
        order.fees.append(line)
    recompute_total(session, order)
    return line


def recompute_total(session: Session, order: Order) -> None:
    before = order.total
    order.total = order_total((p.price for p in order.live_positions), (f.value for f in order.live_fees))
    rollup.follow_sale(session, order, status_before=order.status, total_before=before)
    refresh_balance(session, order)


def expire_order(session: Session, order_id: int, *, actor: str = audit.SYSTEM) -> bool:
    """Expire a pending order past its deadline and release its seats. False when nothing was due.

    Safe for two workers at once: the second finds the order no longer pending and does nothing.
    """
    order = lock_order(session, order_id)
    if order.status != OrderStatus.PENDING or order.expires_at > now():
        return False
    transitions.expire(session, order, actor)
    refresh_balance(session, order)
    return True


def reactivate_order(session: Session, order_id: int, *, actor: str, expires_at: datetime | None = None) -> Order:
    """Bring an expired order back to pending: its seats are checked and taken again."""
    order = lock_order(session, order_id)
    ORDER_MOVES.check(order.status, OrderStatus.PENDING)
    if order.status != OrderStatus.EXPIRED:
        raise Conflict(
            f"Order {order.code} is {order.status}; only expired orders can be reactivated.", code="order-not-expired"
        )
    transitions.reactivate(session, order, actor, expires_at=expires_at or deadline_for(order.event, now()))
    refresh_balance(session, order)
    return order


def extend_order(session: Session, order_id: int, *, actor: str, expires_at: datetime) -> Order:
    """Give a pending (or expired, if its seats are still there) order a new deadline."""
    if expires_at <= now():
        raise InvalidValue("The new deadline must be in the future.", pointer="/data/attributes/expires-at")
    order = lock_order(session, order_id)
    if order.status == OrderStatus.EXPIRED:
        return reactivate_order(session, order_id, actor=actor, expires_at=expires_at)
    if order.status != OrderStatus.PENDING:
        raise Conflict(
            f"Order {order.code} is {order.status}; only pending or expired orders can be extended.",
            code="order-not-pending",
        )
    before = order.expires_at
    order.expires_at = expires_at
    audit.record(session, order, actor, Action.ORDER_EXTENDED, before=before, after=expires_at)
    return order


def accept_late_payment(session: Session, order_id: int, *, actor: str, overbook: bool = False) -> Order:
    """The organizer accepts money that came after the order expired: the order is paid and takes its
    seats again — beyond the quota with ``overbook``, on purpose and in the audit log."""
    order = lock_order(session, order_id)
    if order.status != OrderStatus.EXPIRED:
        raise Conflict(f"Order {order.code} is {order.status}; only an expired order is paid late.", code="order-not-expired")
    if order.pending_sum > 0:
        raise Conflict(f"Order {order.code} is not paid in full; nothing late to accept.", code="order-not-paid-up")
    transitions.pay(session, order, actor, overbook=overbook, late=True)
    refresh_balance(session, order)
    return order


def mark_paid(session: Session, order_id: int, *, actor: str, provider: str = "manual") -> Order:
    """The organizer states the order is paid: what is left is recorded as a confirmed payment."""
    order = lock_order(session, order_id)
    if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
        raise Conflict(f"Order {order.code} is {order.status} and cannot be marked paid.", code="order-not-pending")
    if order.pending_sum > 0:
        payment = payments.start_payment(session, order.id, provider=provider, actor=actor)
        result = payments.confirm_payment(session, payment.id, actor=actor)
        if result.outcome.value == "late-held":  # marking it paid is the organizer's decision
            return accept_late_payment(session, order.id, actor=actor)
        if result.outcome.value == "quota-exceeded":
            raise Conflict(
                f"The quota of order {order.code} is gone; the payment was recorded but the order is not paid.",
                code="quota-exceeded",
            )
    else:
        transitions.pay(session, order, actor, manual=True)
        refresh_balance(session, order)
    return order


def cancel_order(
    session: Session, order_id: int, *, actor: str, cancellation_fee: Decimal = ZERO, comment: str | None = None
) -> Order:
    """Cancel an order: positions and fees end, seats go back, an optional cancellation fee is kept.

    Money already paid is not touched here; the balance then shows what is owed back and the
    caller decides how to refund it (see ``payments.refunding``).
    """
    order = lock_order(session, order_id)
    if order.status == OrderStatus.CANCELED:
        raise Conflict(f"Order {order.code} is already canceled.", code="order-canceled")
    fee = normalize(cancellation_fee, order.currency)
    if fee < 0 or fee > order.total:
        raise InvalidValue(
            f"The cancellation fee must be between 0 and the order total {format_amount(order.total, order.currency)}.",
            pointer="/data/attributes/cancellation-fee",
        )
    ORDER_MOVES.check(order.status, OrderStatus.CANCELED)  # before anything changes
    transitions.release_seats_of(session, order)  # while the positions still say which seats
    before = {"status": order.status, "total": order.total}
    for position in order.positions:
        position.canceled = True
    for fee_line in order.fees:
        fee_line.canceled = True
    if fee > 0:
        order.fees.append(OrderFee(fee_type="cancellation", value=fee, description="Cancellation fee"))
    for payment in session.execute(
        select(Payment).where(Payment.order_id == order.id, Payment.state.in_(list(OPEN_PAYMENT_STATES)))
    ).scalars():
        payments.cancel_payment(session, payment.id, actor=actor, message="order canceled")
    transitions.cancel(session, order, actor, before=before, cancellation_fee=fee, comment=comment)
    recompute_total(session, order)
    return order


def accept_external_refund(
    session: Session, refund_id: int, *, actor: str, then: str, expires_at: datetime | None = None
) -> Order:
    """The organizer accepts money that went back outside boxoffice (``refunds/{id}/process``).

    ``then='cancel'`` cancels the order; ``then='pending'`` returns a paid order to pending with a
    new deadline so the buyer can pay again.
    """
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if refund.state != RefundState.EXTERNAL:
        raise Conflict(
            f"Refund {refund.full_id} is {refund.state}, not an external refund waiting for a decision.",
            code="refund-not-external",
        )
    payments.mark_refund_done(session, refund.id, actor=actor)
    if then == "cancel":
        if order.status != OrderStatus.CANCELED:
            cancel_order(session, order.id, actor=actor, comment=f"external refund {refund.full_id} accepted")
    elif then == "pending":
        if order.status == OrderStatus.PAID and order.pending_sum > 0:
            transitions.back_to_pending(
                session,
                order,
                actor,
                expires_at=expires_at or deadline_for(order.event, now()),
                reason=f"external refund {refund.full_id}",
            )
            refresh_balance(session, order)
    else:
        raise InvalidValue("'then' must be 'cancel' or 'pending'.", pointer="/data/attributes/then")
    return order
