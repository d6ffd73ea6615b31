"""Paying an order through a provider: begin the attempt, commit it, then execute it.

Write-ahead (Kill Bill's rule): the attempt is stored *before* any provider is asked to move money,
and the provider receives our payment's full id (``CODE-P-1``) as its reference and as the root of
its idempotency keys. So the two steps run in two units of work through
:func:`boxoffice.kit.writeahead.write_ahead` — :func:`begin_payment` in the first (committed),
:func:`execute_payment` in the second — and a decline is raised only after both committed
(``outcome.raise_if_declined()``). :func:`pay` does exactly this. Whatever happens at the provider then lands on a row that already
exists: a crash after the provider took the money leaves an attempt that a callback or the janitor
can still confirm — never money without a record. While the provider is asked, the order's row stays
locked, so a callback about the same order waits until the answer is recorded instead of racing it.

``form_data`` holds the buyer's checkout fields, or the API document's attributes: a provider that
takes a token reads it from the attribute named after itself (the Open Event charge sends
``{"sandbox": "4242424242424242"}``), and a form error points at ``/data/attributes/<field>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.db import unit_of_work
from boxoffice.errors import Conflict, DomainError, InvalidValue, PaymentDeclined
from boxoffice.kit.clock import now
from boxoffice.kit.writeahead import write_ahead
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order, OrderFee
from boxoffice.orders.repository import lock_order
from boxoffice.orders.service import set_payment_fee
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment
from boxoffice.payments.repository import lock_attempt, order_id_of_payment
from boxoffice.payments.rules import OPEN_PAYMENT_STATES, PaymentState, in_flight
from boxoffice.providers import reconcile
from boxoffice.providers.base import (
    REDIRECT_URL,
    CheckoutContext,
    PaymentError,
    PaymentProvider,
    PaymentResult,
    ProviderUnavailable,
    fee_base,
    reported,
)
from boxoffice.providers.registry import provider_for

PROVIDER_POINTER = "/data/attributes/provider"

UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class PaymentOutcome:
    """Where an attempt stands after the provider was asked to move the money."""

    payment_id: int
    state: str
    # Send the buyer here to finish (confirmation page, PayPal approval); None: nothing to do.
    redirect_url: str | None = None
    # The provider's words for the buyer (why it was declined, what happens next).
    message: str | None = None
    # The attempt as this unit of work left it (with its order), for an answer built in the same unit
    # without loading it again.
    payment: Payment | None = field(default=None, compare=False, repr=False)

    @property
    def declined(self) -> bool:
        return self.state == PaymentState.FAILED

    def raise_if_declined(self) -> None:
        """Raise :class:`PaymentDeclined` (422) with the provider's message when the attempt failed."""
        if self.declined:
            raise PaymentDeclined(self.message or "The payment was declined.", meta={"payment": str(self.payment_id)})


def begin_payment(
    session: Session,
    order_id: int,
    *,
    provider: str,
    actor: str,
    amount: Decimal | None = None,
    form_data: Mapping[str, Any] | None = None,
    allow_settled: bool = False,
) -> Payment:
    """Write a new attempt of ``provider`` for the order (state ``created``); moves no money.

    For a buyer: the provider must be enabled and allowed for this order; an open attempt is
    canceled first when its provider allows that (``abort_pending_allowed``), otherwise 409 — and
    409 ``payment-in-progress`` while another request is sending one (``rules.in_flight``); when the
    buyer pays what is left, the chosen provider's fee on it replaces the fee not paid yet
    (:func:`choose_method`) and ``payment-mode`` becomes the provider. ``allow_settled=True`` is the organizer
    recording money: no buyer checks, fees and other attempts untouched, settled orders accepted.
    Without ``amount`` the attempt is for what is left to pay.
    """
    form = dict(form_data or {})
    order = lock_order(session, order_id)
    plugin = provider_for(order.event, provider, session, pointer=PROVIDER_POINTER)
    if not allow_settled:
        _check_offered(plugin, order)
    # The form is checked before anything changes, so a typo never costs the buyer an open attempt.
    info = plugin.checkout_prepare(order, form)
    fee = None
    if not allow_settled:
        _abort_open_attempts(session, order, actor)
        if amount is None and order.pending_sum > 0:
            fee = choose_method(session, order, plugin, actor)
    payment = payments.start_payment(
        session, order.id, provider=provider, actor=actor, amount=amount, info=info, allow_settled=allow_settled
    )
    if fee is not None:
        fee.payment = payment  # paid once this attempt is confirmed; until then it follows the rest
    plugin.payment_prepare(payment, form)
    return payment


def _check_offered(plugin: PaymentProvider, order: Order) -> None:
    if not plugin.settings.enabled:
        raise InvalidValue(
            f"'{plugin.identifier}' is not a payment method of this event.",
            pointer=PROVIDER_POINTER,
            code="provider-not-enabled",
        )
    if not plugin.is_allowed(order, CheckoutContext(now=now())):
        raise InvalidValue(
            f"{plugin.public_name} cannot be used for this order.",
            pointer=PROVIDER_POINTER,
            code="provider-not-allowed",
        )


def _abort_open_attempts(session: Session, order: Order, actor: str) -> None:
    """Cancel the order's open attempts so the buyer can retry or switch — when their providers allow it."""
    open_payments = (
        session.execute(
            select(Payment).where(Payment.order_id == order.id, Payment.state.in_(list(OPEN_PAYMENT_STATES)))
        )
        .scalars()
        .all()
    )
    for payment in open_payments:
        if in_flight(payment.state, payment.created_at, now()):
            raise Conflict(
                f"Payment {payment.full_id} is being sent to its provider right now; wait for its outcome.",
                code="payment-in-progress",
                meta={"payment": payment.full_id},
            )
        try:
            previous: PaymentProvider | None = provider_for(order.event, payment.provider, session)
        except DomainError:  # uninstalled since: nobody can tell whether its money is still coming
            previous = None
        if previous is None or not previous.abort_pending_allowed:
            raise Conflict(
                f"Payment {payment.full_id} by {previous.public_name if previous else payment.provider} "
                f"is still {payment.state}; wait for it to complete before paying again.",
                code="payment-pending",
                meta={"payment": payment.full_id},
            )
        try:
            previous.cancel_payment(payment)
        except PaymentError as exc:
            raise Conflict(
                f"Payment {payment.full_id} cannot be given up any more: {exc.detail}",
                code="payment-pending",
                meta={"payment": payment.full_id},
            ) from exc
        payments.cancel_payment(session, payment.id, actor=actor, message="replaced by a new attempt")


def choose_method(session: Session, order: Order, plugin: PaymentProvider, actor: str) -> OrderFee | None:
    """The rest of the order is to be paid with ``plugin``: its fee on what is left replaces the fee
    not paid yet (fees already paid stay), and it becomes the order's payment mode. Also called when
    the order changes, so the fee follows the new rest. Returns the new fee line."""
    fee = plugin.calculate_fee(fee_base(order))
    before = {"payment_mode": order.payment_mode, "total": order.total}
    line = set_payment_fee(
        session, order, provider=plugin.identifier, value=fee, description=f"{plugin.public_name} fee"
    )
    order.payment_mode = plugin.identifier
    if before != {"payment_mode": order.payment_mode, "total": order.total}:
        audit.record(
            session,
            order,
            actor,
            Action.ORDER_PAYMENT_METHOD,
            provider=plugin.identifier,
            fee=fee,
            before=before,
            total=order.total,
        )
    return line


def reprice_payment_fee(session: Session, order: Order, actor: str) -> None:
    """After the order changed: the fee not paid yet follows the new rest, with the order's payment
    mode (pretix recomputes it on every change). It stays with the open attempt it was set for."""
    if order.payment_mode is None:
        return
    try:
        plugin = provider_for(order.event, order.payment_mode, session)
    except DomainError:  # uninstalled since: its fee stays as it was
        return
    attempt = next(
        (f.payment for f in order.open_payment_fees if f.payment is not None and f.payment.state in OPEN_PAYMENT_STATES),
        None,
    )
    line = choose_method(session, order, plugin, actor)
    if line is not None:
        line.payment = attempt


def execute_payment(session: Session, payment_id: int, *, actor: str, order_id: int | None = None) -> PaymentOutcome:
    """Ask the provider to move the money of a committed attempt (see the module's docstring); the
    provider reports a :class:`PaymentResult` and this applies it.

    A provider that returns anything else raises :class:`ProviderContractError`, and the unit of
    work rolls back: the attempt stays ``created``, as if never sent. A decline does not raise: the
    attempt is marked failed and the outcome says so, so the caller commits the failure before
    answering 422 (``outcome.raise_if_declined()``). An unknown outcome (provider unreachable) leaves
    the attempt pending for a callback or the janitor. An attempt that is no longer ``created`` is
    not sent again: its outcome is reported as it stands. ``order_id`` (the attempt's order, when
    the caller knows it) saves looking it up.
    """
    payment = lock_attempt(session, order_id or order_id_of_payment(session, payment_id), payment_id)
    order = payment.order
    if payment.state != PaymentState.CREATED:
        return _outcome(payment)
    plugin = provider_for(order.event, payment.provider, session)
    # Not flushed before the provider is asked: it reads none of our rows, and the attempt is then
    # written once, with its outcome (the whole unit rolls back if the provider breaks its contract).
    payment.attempts += 1
    audit.record(session, order, actor, Action.PAYMENT_SENT, payment=payment.full_id, attempt=payment.attempts)
    try:
        result = reported(plugin, plugin.execute_payment(payment), PaymentResult)
    except PaymentError as exc:
        result = PaymentResult.failed(exc.detail)
    except ProviderUnavailable as exc:  # handed over, verdict unknown: pending for a callback or the janitor
        reconcile.apply_payment_result(session, payment.id, PaymentResult.pending(), actor=plugin.actor)
        return PaymentOutcome(
            payment.id, payment.state, message=f"The outcome is not known yet: {exc}", payment=payment
        )
    reconcile.apply_payment_result(session, payment.id, result, actor=plugin.actor)
    if result.state == PaymentState.FAILED and payment.state == PaymentState.FAILED:
        return PaymentOutcome(payment.id, PaymentState.FAILED, message=result.message, payment=payment)
    return _outcome(payment)


def _outcome(payment: Payment) -> PaymentOutcome:
    redirect = payment.info.get(REDIRECT_URL) if payment.state == PaymentState.PENDING else None
    return PaymentOutcome(
        payment.id, payment.state, redirect_url=redirect, message=payment.info.get("message"), payment=payment
    )


def pay(
    order_id: int,
    *,
    provider: str,
    actor: str,
    amount: Decimal | None = None,
    form_data: Mapping[str, Any] | None = None,
    uow: UnitOfWork = unit_of_work,
) -> PaymentOutcome:
    """Begin and execute a payment in two units of work (write-ahead); raise
    :class:`PaymentDeclined` after the failed attempt is committed when the provider refuses."""
    [outcome] = write_ahead(
        uow,
        lambda session: [
            begin_payment(session, order_id, provider=provider, actor=actor, amount=amount, form_data=form_data).id
        ],
        lambda session, payment_id: execute_payment(session, payment_id, actor=actor, order_id=order_id),
    )
    outcome.raise_if_declined()
    return outcome
