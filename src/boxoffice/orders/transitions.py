"""When is an order paid? The one module that moves an order's status.

Every change of ``Order.status`` is a function here, checked against :data:`~boxoffice.orders.rules.ORDER_MOVES`
and written to the audit log; nothing else assigns the status. Who calls which:

* **paid** — :func:`pay`. An order is paid when the money confirmed on it covers its total
  (``payments.service.confirm_payment``, decided by ``payments.rules.order_after_confirmation``),
  when the organizer marks it paid (``orders.service.mark_paid``), or when a change leaves nothing to
  pay (``orders.changes``). An expired order is paid only if its seats can be taken again.
* **back to pending** — :func:`back_to_pending`: a change or an accepted external refund leaves money
  owed on a paid order; :func:`reactivate` brings an expired order back with its seats.
* **expired** — :func:`expire`: the deadline passed without payment (``orders.expiry``).
* **canceled** — :func:`cancel`: by the organizer or the buyer (``orders.cancellation``).

Seats follow the status: an order holds its seats while pending or paid (``holds_quota``), so the
functions that leave or re-enter those states release or take the seats in the same step. The
balance columns are the caller's (``payments.balance``), since only the caller knows whether the
attempts changed too; only ``payment_state``, which depends on the status, is restated here from
them. The "sold" figure of the daily rollup follows each move (``books.rollup.follow_sale``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.books import rollup
from boxoffice.kit.clock import now
from boxoffice.orders import audit
from boxoffice.orders.audit import Action
from boxoffice.orders.models import Order
from boxoffice.orders.repository import overbook_seats, quota_ids_by_product, release_seats, reserve_seats
from boxoffice.orders.rules import ORDER_MOVES, OrderStatus, quota_demand
from boxoffice.payments.rules import payment_state


def _demand(session: Session, order: Order) -> dict[int, int]:
    positions = order.live_positions
    quotas = quota_ids_by_product(session, sorted({p.product_id for p in positions}))
    return quota_demand((p.product_id, quotas[p.product_id]) for p in positions)


def take_seats(session: Session, order: Order, actor: str = "", *, overbook: bool = False) -> None:
    """Take the order's seats again (it had released them); raises ``QuotaExceeded`` when gone —
    unless the organizer over-books on purpose (``overbook``), which the audit log records."""
    if order.holds_quota:
        return
    demand = _demand(session, order)
    if overbook:
        overbook_seats(session, demand)
        audit.record(session, order, actor, Action.ORDER_OVERBOOKED, seats={str(q): n for q, n in demand.items()})
    else:
        reserve_seats(session, demand)
    order.holds_quota = True


def release_seats_of(session: Session, order: Order) -> None:
    """Give the order's seats back to their quotas."""
    if order.holds_quota:
        release_seats(session, _demand(session, order))
        order.holds_quota = False


def _move(session: Session, order: Order, target: OrderStatus) -> OrderStatus:
    """Set the status; ``payment_state`` (which names the status) and the sold figure follow at once,
    so the order row is written once with both."""
    before = OrderStatus(order.status)
    ORDER_MOVES.check(before, target)
    order.status = target
    net_paid = order.payment_total - order.refund_total
    order.payment_state = payment_state(
        total=order.total, net_paid=net_paid, order_status=target, ever_paid=order.payment_total > 0
    ).value
    rollup.follow_sale(session, order, status_before=before, total_before=order.total)
    return before


def pay(session: Session, order: Order, actor: str, *, overbook: bool = False, **why: Any) -> None:
    """Mark the order paid. An expired order takes its seats back first (``QuotaExceeded`` when
    they are gone, with nothing changed; beyond the quota with ``overbook``). ``why`` goes to the
    audit entry (late, manual, reason)."""
    ORDER_MOVES.check(order.status, OrderStatus.PAID)
    take_seats(session, order, actor, overbook=overbook)
    before = _move(session, order, OrderStatus.PAID)
    order.paid_at = now()
    audit.record(session, order, actor, Action.ORDER_PAID, before=before, **why)


def back_to_pending(session: Session, order: Order, actor: str, *, expires_at: datetime, **why: Any) -> None:
    """A paid order owes money again (changed, or money went back): pending with a new deadline."""
    _move(session, order, OrderStatus.PENDING)
    order.expires_at = expires_at
    audit.record(session, order, actor, Action.ORDER_PENDING, **why, expires_at=expires_at)


def reactivate(session: Session, order: Order, actor: str, *, expires_at: datetime) -> None:
    """An expired order goes back to pending with a new deadline, if its seats are still there."""
    ORDER_MOVES.check(order.status, OrderStatus.PENDING)
    take_seats(session, order)
    _move(session, order, OrderStatus.PENDING)
    order.expires_at = expires_at
    audit.record(session, order, actor, Action.ORDER_REACTIVATED, expires_at=expires_at)


def expire(session: Session, order: Order, actor: str) -> None:
    """The deadline passed unpaid: the order expires and its seats go back."""
    _move(session, order, OrderStatus.EXPIRED)
    release_seats_of(session, order)
    audit.record(session, order, actor, Action.ORDER_EXPIRED, expires_at=order.expires_at)


def cancel(session: Session, order: Order, actor: str, **why: Any) -> None:
    """The order is canceled and its seats go back. Positions, fees and payments are the caller's."""
    _move(session, order, OrderStatus.CANCELED)
    release_seats_of(session, order)
    order.canceled_at = now()
    audit.record(session, order, actor, Action.ORDER_CANCELED, **why)
