"""Order rules as plain functions: status moves, totals, deadlines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from boxoffice.kit.money import ZERO
from boxoffice.kit.states import StateMachine

if TYPE_CHECKING:
    from boxoffice.orders.models import Order


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELED = "canceled"


ORDER_MOVES = StateMachine(
    "order",
    {
        OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELED}),
        OrderStatus.EXPIRED: frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.CANCELED}),
        # A paid order goes back to pending when it changes and money is owed again.
        OrderStatus.PAID: frozenset({OrderStatus.PENDING, OrderStatus.CANCELED}),
        OrderStatus.CANCELED: frozenset(),
    },
)

# Orders whose positions hold seats in their quotas.
QUOTA_HOLDING = frozenset({OrderStatus.PENDING, OrderStatus.PAID})

DEFAULT_EXPIRY = timedelta(days=3)


def order_total(position_prices: Iterable[Decimal], fee_values: Iterable[Decimal]) -> Decimal:
    return sum(position_prices, ZERO) + sum(fee_values, ZERO)


def expiry_deadline(
    placed_at: datetime,
    *,
    minutes: int | None = None,
    days: int | None = None,
    skip_weekends: bool = False,
    last_date: datetime | None = None,
) -> datetime:
    """When a pending order placed at ``placed_at`` expires.

    ``minutes`` wins over ``days``; with neither, three days. With ``skip_weekends``, a deadline
    falling on a Saturday or Sunday moves to the end of the following Monday. Never later than
    ``last_date`` (the event's last payment date).
    """
    if minutes is not None:
        deadline = placed_at + timedelta(minutes=minutes)
    elif days is not None:
        deadline = (placed_at + timedelta(days=days)).replace(hour=23, minute=59, second=59, microsecond=0)
    else:
        deadline = placed_at + DEFAULT_EXPIRY
    if skip_weekends and deadline.weekday() >= 5:
        deadline = (deadline + timedelta(days=7 - deadline.weekday())).replace(
            hour=23, minute=59, second=59, microsecond=0
        )
    if last_date is not None and deadline > last_date:
        deadline = last_date
    return deadline


def quota_demand(product_quota_ids: Iterable[tuple[int, Iterable[int]]]) -> dict[int, int]:
    """Seats needed per quota for positions given as ``(product_id, quota ids of that product)``."""
    demand: dict[int, int] = {}
    for _product_id, quota_ids in product_quota_ids:
        for quota_id in quota_ids:
            demand[quota_id] = demand.get(quota_id, 0) + 1
    return demand


def cancellation_fee(
    total: Decimal, *, absolute: Decimal, percent: Decimal, kept_fees: Decimal, currency: str
) -> Decimal:
    """What the organizer keeps when an order is canceled: an absolute fee plus a percentage of the
    total, plus fees that are not refundable (e.g. payment fees, per event setting); never more than
    the total."""
    from boxoffice.kit.money import percentage

    if absolute < 0 or not 0 <= percent <= 100:
        raise ValueError("a cancellation fee is zero or more and a percentage between 0 and 100")
    fee = absolute + percentage(total, percent, currency) + kept_fees
    return min(fee, total)


def buyer_may_cancel(
    *, status: str, net_paid: Decimal, allow_unpaid: bool, allow_paid: bool, deadline: datetime | None, now: datetime
) -> str | None:
    """Why a buyer may not cancel their own order, or None when they may."""
    if status in ("canceled", "expired"):
        return f"The order is {status}."
    if deadline is not None and now > deadline:
        return "The deadline for cancelling has passed."
    if net_paid > 0 or status == "paid":
        return None if allow_paid else "Paid orders of this event cannot be canceled by the buyer."
    return None if allow_unpaid else "Orders of this event cannot be canceled by the buyer."


def order_page_path(order: Order) -> str:
    """The buyer's secret link to the order's page in the shop (path only):
    ``/e/<organizer>/<event>/order/<code>/<secret>/``."""
    event = order.event
    return f"/e/{event.organizer.slug}/{event.slug}/order/{order.code}/{order.secret}/"
