"""Money rules of payments and refunds, as plain functions over plain values (no I/O, no session)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from boxoffice.kit.money import ZERO
from boxoffice.kit.states import StateMachine


class PaymentState(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"


class RefundState(StrEnum):
    CREATED = "created"
    TRANSIT = "transit"
    EXTERNAL = "external"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class RefundSource(StrEnum):
    ADMIN = "admin"
    BUYER = "buyer"
    EXTERNAL = "external"


P = PaymentState
R = RefundState

PAYMENT_MOVES = StateMachine(
    "payment",
    {
        P.CREATED: frozenset({P.PENDING, P.CONFIRMED, P.FAILED, P.CANCELED}),
        P.PENDING: frozenset({P.CONFIRMED, P.FAILED, P.CANCELED}),
        # Money reported late by the provider is real money: a failed or canceled attempt may still
        # be confirmed, so the books show what actually arrived.
        P.FAILED: frozenset({P.CONFIRMED}),
        P.CANCELED: frozenset({P.CONFIRMED}),
        P.CONFIRMED: frozenset({P.REFUNDED}),
        # A refund that failed or was canceled after the payment counted as refunded.
        P.REFUNDED: frozenset({P.CONFIRMED}),
    },
)

REFUND_MOVES = StateMachine(
    "refund",
    {
        R.CREATED: frozenset({R.TRANSIT, R.DONE, R.FAILED, R.CANCELED}),
        R.TRANSIT: frozenset({R.DONE, R.FAILED, R.CANCELED}),
        R.EXTERNAL: frozenset({R.DONE, R.CANCELED}),
        R.FAILED: frozenset(),
        R.DONE: frozenset(),
        R.CANCELED: frozenset(),
    },
)

# Payments whose money the organizer holds (or held, before refunds, which are counted separately).
COUNTING_PAYMENT_STATES = frozenset({P.CONFIRMED, P.REFUNDED})
# Refunds whose money has left, or is committed to leave.
COUNTING_REFUND_STATES = frozenset({R.DONE, R.TRANSIT, R.CREATED})
# Refunds an organizer still has to act on or wait for.
OPEN_REFUND_STATES = frozenset({R.CREATED, R.TRANSIT, R.EXTERNAL})
OPEN_PAYMENT_STATES = frozenset({P.CREATED, P.PENDING})
# An attempt still ``created`` was just written by a request that is about to hand it to its provider
# (write-ahead). For this long nobody else gives it up: another request is answered 409 instead.
IN_FLIGHT = timedelta(minutes=2)


def in_flight(state: str, created_at: datetime, moment: datetime) -> bool:
    """Whether an attempt is being sent to its provider by another request right now."""
    return state == P.CREATED and moment - created_at < IN_FLIGHT


class PaymentStateOfOrder(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially-paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    UNDERPAID = "underpaid"
    PENDING_FULLY_PAID = "pending-fully-paid"
    FREE = "free"


@dataclass(frozen=True)
class Balance:
    """Where an order stands with money."""

    payment_total: Decimal
    refund_total: Decimal
    pending_sum: Decimal
    payment_state: PaymentStateOfOrder
    has_open_refund: bool

    @property
    def net_paid(self) -> Decimal:
        return self.payment_total - self.refund_total


def balance(
    *,
    total: Decimal,
    order_status: str,
    payments: Iterable[tuple[str, Decimal]],
    refunds: Iterable[tuple[str, Decimal]],
) -> Balance:
    """The balance of an order from its total, status and ``(state, amount)`` of every attempt.

    ``total`` is already 0 (or the kept cancellation fee) for a canceled order.
    """
    payment_total = sum((a for s, a in payments if s in COUNTING_PAYMENT_STATES), ZERO)
    refund_list = list(refunds)
    refund_total = sum((a for s, a in refund_list if s in COUNTING_REFUND_STATES), ZERO)
    has_open = any(s in OPEN_REFUND_STATES for s, _ in refund_list)
    net = payment_total - refund_total
    pending_sum = total - net
    state = payment_state(total=total, net_paid=net, order_status=order_status, ever_paid=payment_total > 0)
    return Balance(payment_total, refund_total, pending_sum, state, has_open)


def payment_state(
    *, total: Decimal, net_paid: Decimal, order_status: str, ever_paid: bool = False
) -> PaymentStateOfOrder:
    """The ``payment-state`` of CONTRACT.md for an order.

    ``ever_paid`` tells a canceled order whose money went back (settled: ``paid``) from one that
    never saw any (``unpaid``).
    """
    S = PaymentStateOfOrder
    if net_paid > total:
        # Money owed back: on a canceled order CONTRACT.md calls that underpaid.
        return S.UNDERPAID if order_status == "canceled" else S.OVERPAID
    if net_paid == total:
        if order_status == "canceled":
            return S.PAID if ever_paid else S.UNPAID
        if total == 0:
            return S.FREE
        return S.PAID if order_status == "paid" else S.PENDING_FULLY_PAID
    # net_paid < total: money still owed by the buyer
    if order_status == "paid":
        return S.UNDERPAID
    if net_paid <= 0:
        return S.UNPAID
    # Money held for an expired order that is not going ahead unless reactivated.
    return S.UNDERPAID if order_status == "expired" else S.PARTIALLY_PAID


def with_payment(before: Balance, amount: Decimal, *, total: Decimal, order_status: str) -> Balance:
    """The balance once one more payment of ``amount`` counts (a payment just confirmed), from the
    balance before it: the same as :func:`balance` over all the attempts, without summing them."""
    payment_total = before.payment_total + amount
    net = payment_total - before.refund_total
    state = payment_state(total=total, net_paid=net, order_status=order_status, ever_paid=payment_total > 0)
    return Balance(payment_total, before.refund_total, total - net, state, before.has_open_refund)


def refundable_amount(payment_amount: Decimal, refund_amounts: Iterable[tuple[str, Decimal]]) -> Decimal:
    """What may still be refunded from one payment, given its refunds ``(state, amount)``."""
    already = sum((a for s, a in refund_amounts if s in COUNTING_REFUND_STATES), ZERO)
    return payment_amount - already


def is_fully_refunded(payment_amount: Decimal, done_refund_amounts: Iterable[Decimal]) -> bool:
    return sum(done_refund_amounts, ZERO) >= payment_amount


class ConfirmOutcome(StrEnum):
    """What confirming a payment did to its order."""

    ALREADY_CONFIRMED = "already-confirmed"
    ORDER_PAID = "order-paid"
    PARTIAL = "partial"
    LATE_ACCEPTED = "late-accepted"
    # The event's late-payment policy is "ask": the expired order waits for the organizer's decision.
    LATE_HELD = "late-held"
    QUOTA_EXCEEDED = "quota-exceeded"
    OVERPAYMENT = "overpayment"


def order_after_confirmation(*, order_status: str, pending_sum_after: Decimal) -> ConfirmOutcome:
    """What the order does once a payment has been confirmed and the balance recomputed.

    The caller checks quota for ``expired`` orders and reports QUOTA_EXCEEDED itself when it is gone.
    """
    if order_status in ("paid", "canceled"):
        return ConfirmOutcome.OVERPAYMENT
    if pending_sum_after > 0:
        return ConfirmOutcome.PARTIAL
    if order_status == "expired":
        return ConfirmOutcome.LATE_ACCEPTED
    return ConfirmOutcome.ORDER_PAID


def external_refund_settles_overpayment(*, total: Decimal, net_paid: Decimal, amount: Decimal) -> bool:
    """An external refund that exactly gives back an overpayment needs no organizer decision."""
    return amount > 0 and net_paid - total == amount


@dataclass(frozen=True)
class RefundablePayment:
    payment_id: int
    available: Decimal
    partial_supported: bool
    full_supported: bool = True


def propose_refund(amount: Decimal, payments: Sequence[RefundablePayment]) -> list[tuple[int, Decimal]]:
    """Which confirmed payments to refund to give back ``amount``, as the organizer's default.

    An exact match on one payment first (a whole refund is the simplest for everyone); otherwise
    whole payments that fit, then the remainder from payments that allow partial refunds, largest
    first. Returns ``(payment_id, amount)`` pairs; their sum may fall short of ``amount`` when the
    payments cannot cover it — the caller shows the rest as a manual refund.
    """
    if amount <= 0:
        return []
    usable = [p for p in payments if p.available > 0 and (p.full_supported or p.partial_supported)]
    for p in usable:
        if p.available == amount and p.full_supported:
            return [(p.payment_id, amount)]
    proposal: list[tuple[int, Decimal]] = []
    left = amount
    for p in sorted(usable, key=lambda p: (-p.available, p.payment_id)):
        if left <= 0:
            break
        if p.available <= left and p.full_supported:
            proposal.append((p.payment_id, p.available))
            left -= p.available
    for p in sorted(usable, key=lambda p: (-p.available, p.payment_id)):
        if left <= 0:
            break
        if any(pid == p.payment_id for pid, _ in proposal) or not p.partial_supported:
            continue
        take = min(p.available, left)
        proposal.append((p.payment_id, take))
        left -= take
    return proposal
