"""Who may change a payment's state? Only this module: the use cases of payment and refund attempts.

Every move of ``Payment.state`` and ``Refund.state`` is a function here and goes through
``PAYMENT_MOVES.move`` / ``REFUND_MOVES.move`` (the tables in :mod:`boxoffice.payments.rules`,
documented in docs/providers.md), writing the order's audit log and its stored balance
(:mod:`boxoffice.payments.balance`: recomputed from the attempts, or — when a payment is confirmed —
the payment added to it).
Providers, the inbox, the janitor and the API all call these functions; none assigns a state. When
a confirmed payment makes the order paid, the order moves through :mod:`boxoffice.orders.transitions`.
Each function runs inside the caller's transaction (never commits).

Lock order, always: the order row first, then its payment or refund rows. Two workers confirming
the same payment therefore queue on the order; the second sees a confirmed payment and does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.books import rollup
from boxoffice.catalogue.policies import LatePaymentPolicy, late_payment_policy
from boxoffice.errors import Conflict, InvalidValue, QuotaExceeded
from boxoffice.kit.clock import now
from boxoffice.kit.money import format_amount, normalize
from boxoffice.orders import audit, transitions
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order
from boxoffice.orders.repository import lock_order
from boxoffice.orders.rules import OrderStatus
from boxoffice.payments import rules
from boxoffice.payments.balance import add_confirmed_payment, refresh_balance, restate_balance
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import (
    add_attempt,
    lock_payment,
    lock_refund,
    order_id_of_payment,
    order_id_of_refund,
    refunds_of_payment,
)
from boxoffice.payments.rules import (
    PAYMENT_MOVES,
    REFUND_MOVES,
    ConfirmOutcome,
    PaymentState,
    RefundSource,
    RefundState,
)

log = logging.getLogger(__name__)

# The audit entry of an attempt that ended without money moving.
_ENDED_PAYMENT = {PaymentState.FAILED: Action.PAYMENT_FAILED, PaymentState.CANCELED: Action.PAYMENT_CANCELED}
_ENDED_REFUND = {RefundState.FAILED: Action.REFUND_FAILED, RefundState.CANCELED: Action.REFUND_CANCELED}


@dataclass(frozen=True)
class ConfirmResult:
    payment: Payment
    order: Order
    outcome: ConfirmOutcome


def _check_amount(amount: Decimal, currency: str, *, pointer: str, allow_zero: bool = False) -> Decimal:
    if isinstance(amount, float):
        raise InvalidValue("Amounts are decimal strings, never floats.", pointer=pointer)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidValue("The amount must be more than zero.", pointer=pointer, code="invalid-amount")
    try:
        return normalize(amount, currency)
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer=pointer, code="too-precise") from exc


def start_payment(
    session: Session,
    order_id: int,
    *,
    provider: str,
    actor: str,
    amount: Decimal | None = None,
    info: dict[str, Any] | None = None,
    allow_settled: bool = False,
) -> Payment:
    """Write a new payment attempt (state ``created``) before any provider is called.

    Without ``amount`` the attempt is for what is left to pay. Canceled orders take no payments;
    paid or fully covered orders only with ``allow_settled`` (the organizer recording money).
    """
    order = lock_order(session, order_id)
    if order.status == OrderStatus.CANCELED:
        raise Conflict(f"Order {order.code} is canceled and takes no payments.", code="order-canceled")
    left = max(order.pending_sum, Decimal(0))
    # Before the amount is checked: an order another request just paid is a conflict, not a bad amount.
    if not allow_settled and (
        order.status == OrderStatus.PAID or (left == 0 and (provider != "free" or (amount or 0) > 0))
    ):
        raise Conflict(f"Order {order.code} has nothing left to pay.", code="order-paid")
    amount = left if amount is None else amount
    amount = _check_amount(amount, order.currency, pointer="/data/attributes/amount", allow_zero=provider == "free")
    payment = add_attempt(
        session, Payment, order_id=order.id, provider=provider, amount=amount, state=PaymentState.CREATED, info=info or {}
    )
    audit.record(session, order, actor, Action.PAYMENT_CREATED, payment=payment.full_id, provider=provider, amount=amount)
    return payment


def set_payment_pending(session: Session, payment_id: int, *, actor: str, reference: str | None = None) -> Payment:
    """The provider accepted the attempt and money is on its way (bank transfer, redirect…)."""
    order = lock_order(session, order_id_of_payment(session, payment_id))
    payment = lock_payment(session, payment_id)
    if payment.state == PaymentState.PENDING:
        return payment
    PAYMENT_MOVES.move(payment, PaymentState.PENDING)
    if reference is not None:
        payment.provider_reference = reference
    audit.record(session, order, actor, Action.PAYMENT_PENDING, payment=payment.full_id)
    return payment


def confirm_payment(session: Session, payment_id: int, *, actor: str, amount: Decimal | None = None) -> ConfirmResult:
    """Confirm that the money of a payment arrived; mark the order paid once nothing is left to pay.

    Idempotent: a confirmed payment is returned unchanged. An expired order is paid late only when
    its quota is still there; otherwise the payment stays confirmed, the order stays expired, and
    the outcome is ``QUOTA_EXCEEDED`` for the organizer to decide. Under the late-payment policy
    ``ask`` the organizer decides even while seats are left (``LATE_HELD``).
    """
    order = lock_order(session, order_id_of_payment(session, payment_id))
    payment = lock_payment(session, payment_id)
    if payment.state in rules.COUNTING_PAYMENT_STATES:
        return ConfirmResult(payment, order, ConfirmOutcome.ALREADY_CONFIRMED)
    PAYMENT_MOVES.check(payment.state, PaymentState.CONFIRMED)  # before the amount is touched
    if amount is not None and amount != payment.amount:
        # The provider reports a different amount than we asked for: the books follow the money.
        amount = _check_amount(amount, order.currency, pointer="/data/attributes/amount")
        audit.record(
            session,
            order,
            actor,
            Action.PAYMENT_AMOUNT_CORRECTED,
            payment=payment.full_id,
            before=payment.amount,
            after=amount,
        )
        payment.amount = amount
    PAYMENT_MOVES.move(payment, PaymentState.CONFIRMED)
    payment.payment_date = now()
    rollup.add_to_day(session, order, moment=payment.payment_date, paid=payment.amount)
    audit.record(session, order, actor, Action.PAYMENT_CONFIRMED, payment=payment.full_id, amount=payment.amount)

    bal = add_confirmed_payment(session, order, payment.amount)
    outcome = rules.order_after_confirmation(order_status=order.status, pending_sum_after=bal.pending_sum)
    if outcome == ConfirmOutcome.ORDER_PAID:
        transitions.pay(session, order, actor, late=False)
    elif outcome == ConfirmOutcome.LATE_ACCEPTED:
        try:
            with session.begin_nested():
                if late_payment_policy(order.event.settings) is LatePaymentPolicy.ASK:
                    transitions.take_seats(session, order, actor)
                    raise _AskOrganizer  # the seats are there, but the organizer decides: give them back
                transitions.pay(session, order, actor, late=True)
        except _AskOrganizer:
            outcome = ConfirmOutcome.LATE_HELD
            audit.record(
                session,
                order,
                actor,
                Action.ORDER_LATE_PAYMENT_HELD,
                payment=payment.full_id,
                detail="Paid after the order expired; the late-payment policy asks the organizer to accept or refund it.",
            )
        except QuotaExceeded:
            outcome = ConfirmOutcome.QUOTA_EXCEEDED
            log.warning("Order %s: payment %s confirmed but the quota is gone", order.code, payment.full_id)
            audit.record(
                session,
                order,
                actor,
                Action.ORDER_QUOTA_EXCEEDED,
                payment=payment.full_id,
                detail="Payment confirmed for an expired order whose quota is gone; not marked paid.",
            )
    elif outcome == ConfirmOutcome.OVERPAYMENT:
        audit.record(session, order, actor, Action.ORDER_OVERPAID, payment=payment.full_id, overpaid_by=-bal.pending_sum)
    # The attempts are as ``bal`` summed them; only the order's status may have moved since.
    restate_balance(session, order, bal)
    return ConfirmResult(payment, order, outcome)


class _AskOrganizer(Exception):
    """Rolls back the seats a late payment found, when the policy is to ask the organizer."""


def fail_payment(session: Session, payment_id: int, *, actor: str, message: str | None = None) -> Payment:
    """The provider refused the money (declined card, failed capture)."""
    return _end_payment(session, payment_id, PaymentState.FAILED, actor=actor, message=message)


def cancel_payment(session: Session, payment_id: int, *, actor: str, message: str | None = None) -> Payment:
    """The buyer or organizer gave the attempt up before money moved."""
    return _end_payment(session, payment_id, PaymentState.CANCELED, actor=actor, message=message)


def _end_payment(
    session: Session, payment_id: int, target: PaymentState, *, actor: str, message: str | None
) -> Payment:
    order = lock_order(session, order_id_of_payment(session, payment_id))
    payment = lock_payment(session, payment_id)
    if payment.state == target:
        return payment
    PAYMENT_MOVES.move(payment, target)
    if message:
        payment.info = {**payment.info, "message": message}
    audit.record(session, order, actor, _ENDED_PAYMENT[target], payment=payment.full_id, message=message)
    return payment


def create_refund(
    session: Session,
    payment_id: int,
    *,
    amount: Decimal,
    actor: str,
    source: RefundSource = RefundSource.ADMIN,
    comment: str | None = None,
    provider: str | None = None,
) -> Refund:
    """Write a refund attempt (state ``created``) of ``amount`` from a confirmed payment.

    Refuses to give back more than the payment has left after its other refunds.
    """
    order = lock_order(session, order_id_of_payment(session, payment_id))
    payment = lock_payment(session, payment_id)
    if payment.state != PaymentState.CONFIRMED:
        raise Conflict(
            f"Payment {payment.full_id} is {payment.state}; only confirmed payments can be refunded.",
            code="payment-not-refundable",
        )
    amount = _check_amount(amount, order.currency, pointer="/data/attributes/amount")
    available = rules.refundable_amount(payment.amount, refunds_of_payment(session, payment.id))
    if amount > available:
        raise InvalidValue(
            f"Refund of {format_amount(amount, order.currency)} exceeds the "
            f"{format_amount(available, order.currency)} left to refund on payment {payment.full_id}.",
            pointer="/data/attributes/amount",
            code="refund-exceeds-payment",
        )
    refund = add_attempt(
        session,
        Refund,
        order_id=order.id,
        payment_id=payment.id,
        provider=provider or payment.provider,
        amount=amount,
        state=RefundState.CREATED,
        source=source,
        comment=comment,
    )
    audit.record(
        session,
        order,
        actor,
        Action.REFUND_CREATED,
        refund=refund.full_id,
        payment=payment.full_id,
        amount=amount,
        source=source.value,
        comment=comment,
    )
    refresh_balance(session, order)
    return refund


def set_refund_transit(session: Session, refund_id: int, *, actor: str, reference: str | None = None) -> Refund:
    """The money is on its way back (handed to the provider, exported to the bank)."""
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if refund.state == RefundState.TRANSIT:
        return refund
    REFUND_MOVES.move(refund, RefundState.TRANSIT)
    if reference is not None:
        refund.provider_reference = reference
    audit.record(session, order, actor, Action.REFUND_TRANSIT, refund=refund.full_id)
    refresh_balance(session, order)
    return refund


def mark_refund_done(session: Session, refund_id: int, *, actor: str, execution_date: datetime | None = None) -> Refund:
    """The money is back with the buyer. Marks the payment refunded once it is fully refunded.

    Never changes the order's status: whether the order goes on is the organizer's decision.
    """
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if refund.state == RefundState.DONE:
        return refund
    REFUND_MOVES.move(refund, RefundState.DONE)
    refund.execution_date = execution_date or now()
    rollup.add_to_day(session, order, moment=refund.execution_date, refunded=refund.amount)
    audit.record(session, order, actor, Action.REFUND_DONE, refund=refund.full_id, amount=refund.amount)
    _sync_payment_refunded(session, order, refund.payment_id, actor)
    refresh_balance(session, order)
    return refund


def mark_refund_failed(session: Session, refund_id: int, *, actor: str, message: str | None = None) -> Refund:
    return _end_refund(session, refund_id, RefundState.FAILED, actor=actor, message=message)


def cancel_refund(session: Session, refund_id: int, *, actor: str, message: str | None = None) -> Refund:
    return _end_refund(session, refund_id, RefundState.CANCELED, actor=actor, message=message)


def _end_refund(session: Session, refund_id: int, target: RefundState, *, actor: str, message: str | None) -> Refund:
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if refund.state == target:
        return refund
    REFUND_MOVES.move(refund, target)
    if message:
        refund.info = {**refund.info, "message": message}
    audit.record(session, order, actor, _ENDED_REFUND[target], refund=refund.full_id, message=message)
    _sync_payment_refunded(session, order, refund.payment_id, actor)
    refresh_balance(session, order)
    return refund


def _sync_payment_refunded(session: Session, order: Order, payment_id: int | None, actor: str) -> None:
    """Keep a payment's refunded/confirmed state in line with its done refunds."""
    if payment_id is None:
        return
    payment = lock_payment(session, payment_id)
    session.flush()
    done = [a for s, a in refunds_of_payment(session, payment.id) if s == RefundState.DONE]
    fully = rules.is_fully_refunded(payment.amount, done)
    if fully and payment.state == PaymentState.CONFIRMED:
        PAYMENT_MOVES.move(payment, PaymentState.REFUNDED)
        audit.record(session, order, actor, Action.PAYMENT_REFUNDED, payment=payment.full_id)
    elif not fully and payment.state == PaymentState.REFUNDED:
        PAYMENT_MOVES.move(payment, PaymentState.CONFIRMED)
        audit.record(
            session, order, actor, Action.PAYMENT_CONFIRMED, payment=payment.full_id, detail="no longer fully refunded"
        )


def create_external_refund(
    session: Session,
    order_id: int,
    *,
    amount: Decimal,
    actor: str,
    provider: str,
    payment_id: int | None = None,
    comment: str | None = None,
    reference: str | None = None,
    info: dict[str, Any] | None = None,
) -> Refund:
    """Record money that went back outside boxoffice (a dashboard refund, a dispute, a bank return).

    It waits in state ``external`` for the organizer's decision — unless it exactly gives back an
    overpayment, in which case it is done at once.
    """
    order = lock_order(session, order_id)
    amount = _check_amount(amount, order.currency, pointer="/data/attributes/amount")
    refund = add_attempt(
        session,
        Refund,
        order_id=order.id,
        payment_id=payment_id,
        provider=provider,
        amount=amount,
        state=RefundState.EXTERNAL,
        source=RefundSource.EXTERNAL,
        comment=comment,
        provider_reference=reference,
        info=info or {},
    )
    audit.record(session, order, actor, Action.REFUND_EXTERNAL, refund=refund.full_id, amount=amount, comment=comment)
    bal = refresh_balance(session, order)
    if rules.external_refund_settles_overpayment(total=order.total, net_paid=bal.net_paid, amount=amount):
        REFUND_MOVES.move(refund, RefundState.DONE)
        refund.execution_date = now()
        rollup.add_to_day(session, order, moment=refund.execution_date, refunded=amount)
        audit.record(
            session,
            order,
            actor,
            Action.REFUND_DONE,
            refund=refund.full_id,
            amount=amount,
            detail="gives back exactly the overpayment",
        )
        _sync_payment_refunded(session, order, payment_id, actor)
        refresh_balance(session, order)
    return refund
