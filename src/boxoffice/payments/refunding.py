"""Giving money back: which payments to refund, writing the refunds, and having providers execute them.

A refund is an attempt like a payment. Where a provider gives money back by itself
(``payment_refund_supported``), it executes the refund and reports a
:class:`~boxoffice.providers.base.RefundResult` (done, transit or failed), which the core applies
through the service layer; where it cannot (manual, bank transfer), the refund stays ``created``
until the organizer carries it out and marks it done — never silently done. ``mark_refunded=True`` records
money that already went back outside boxoffice: done at once, no provider called.

Write-ahead applies as for payments: :func:`refund_payment` and :func:`refund_order` with
``execute=False`` only write the refunds; once they are committed, :func:`execute_refund` (or
:func:`process_refund`) hands each to its provider in a unit of work of its own. :func:`refund_now` and
:func:`give_back` do both steps through :func:`boxoffice.kit.writeahead.write_ahead` and raise :class:`RefundDeclined` after a refusal is committed. A
provider's refusal never raises inside a unit of work: the refund is marked failed and returned, so
the failure is on record once the caller commits (check with :func:`raise_if_failed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.db import unit_of_work
from boxoffice.errors import Conflict, DomainError, InvalidValue, NotFound, PaymentDeclined
from boxoffice.kit.money import format_amount, normalize
from boxoffice.kit.writeahead import write_ahead
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.models import Order
from boxoffice.orders.repository import lock_order
from boxoffice.payments import rules
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import lock_refund, order_id_of_refund, refunds_of_payment
from boxoffice.payments.rules import PaymentState, RefundablePayment, RefundSource, RefundState
from boxoffice.providers import reconcile
from boxoffice.providers.base import PaymentError, PaymentProvider, ProviderUnavailable, RefundResult, reported
from boxoffice.providers.registry import provider_for

AMOUNT_POINTER = "/data/attributes/amount"

UnitOfWork = Callable[[], AbstractContextManager[Session]]


class RefundDeclined(PaymentDeclined):
    """The provider refused to give the money back; ``detail`` is its message."""

    code = "refund-declined"
    title = "Refund declined"


def _plugin(session: Session, order: Order, identifier: str) -> PaymentProvider | None:
    try:
        return provider_for(order.event, identifier, session)
    except DomainError:  # provider uninstalled since: its money can only go back by hand
        return None


def _automatic(plugin: PaymentProvider | None, payment: Payment, amount: Decimal, available: Decimal) -> bool:
    """Whether ``plugin`` gives ``amount`` of ``payment`` back by itself."""
    if plugin is None or not plugin.payment_refund_supported(payment):
        return False
    whole = amount == payment.amount and available == payment.amount
    return whole or plugin.payment_partial_refund_supported(payment)


def _refundable(session: Session, order: Order, *, automatic_only: bool) -> list[RefundablePayment]:
    confirmed = session.execute(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.state == PaymentState.CONFIRMED)
        .order_by(Payment.local_id)
    ).scalars()
    found = []
    for payment in confirmed:
        available = rules.refundable_amount(payment.amount, refunds_of_payment(session, payment.id))
        if not automatic_only:
            found.append(RefundablePayment(payment.id, available, partial_supported=True, full_supported=True))
            continue
        plugin = _plugin(session, order, payment.provider)
        supported = plugin is not None and plugin.payment_refund_supported(payment)
        partial = supported and plugin is not None and plugin.payment_partial_refund_supported(payment)
        found.append(
            RefundablePayment(
                payment.id,
                available,
                partial_supported=partial,
                full_supported=supported and available == payment.amount,
            )
        )
    return found


def _plan(session: Session, order: Order, amount: Decimal, *, mark_refunded: bool) -> list[tuple[int, Decimal]]:
    everything = _refundable(session, order, automatic_only=False)
    if mark_refunded:  # no provider is involved: any payment will do
        return rules.propose_refund(amount, everything)
    plan = rules.propose_refund(amount, _refundable(session, order, automatic_only=True))
    taken = dict(plan)
    rest = amount - sum(taken.values(), Decimal(0))
    leftover = [
        RefundablePayment(p.payment_id, p.available - taken.get(p.payment_id, Decimal(0)), True, True)
        for p in everything
    ]
    return plan + rules.propose_refund(rest, leftover)


def propose(session: Session, order_id: int, amount: Decimal) -> list[tuple[int, Decimal]]:
    """Which confirmed payments to refund, and how much of each, to give back ``amount`` — the
    organizer's default. Payments whose provider gives money back by itself come first (an exact
    match, then whole payments, then partial refunds); what they cannot cover is taken from the
    other payments, as refunds the organizer carries out. The sum falls short of ``amount`` only
    when the payments do not hold that much."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", parameter="id")
    return _plan(session, order, amount, mark_refunded=False)


def refund_payment(
    session: Session,
    payment_id: int,
    *,
    amount: Decimal,
    actor: str,
    mark_refunded: bool = False,
    comment: str | None = None,
    source: RefundSource = RefundSource.ADMIN,
    execute: bool = True,
) -> Refund:
    """Refund ``amount`` of a confirmed payment.

    ``mark_refunded``: the money went back outside boxoffice — the refund (provider ``manual``) is
    done at once. Otherwise the refund is written and, with ``execute``, handed to the provider when
    it refunds by itself; a provider that cannot leaves it ``created`` for the organizer.
    """
    if mark_refunded:
        refund = payments.create_refund(
            session, payment_id, amount=amount, actor=actor, source=source, comment=comment, provider="manual"
        )
        return payments.mark_refund_done(session, refund.id, actor=actor)
    refund = payments.create_refund(session, payment_id, amount=amount, actor=actor, source=source, comment=comment)
    return execute_refund(session, refund.id, actor=actor) if execute else refund


def refund_order(
    session: Session,
    order_id: int,
    *,
    amount: Decimal,
    actor: str,
    mark_refunded: bool = False,
    comment: str | None = None,
    source: RefundSource = RefundSource.ADMIN,
    execute: bool = True,
) -> list[Refund]:
    """Give back ``amount`` of an order as :func:`propose` plans it: refunds from payments whose
    provider gives money back by itself are executed (with ``execute``), the others stay
    ``created`` for the organizer. Refuses an amount above what the order's payments have left."""
    order = lock_order(session, order_id)
    if isinstance(amount, float) or amount <= 0:
        raise InvalidValue("The amount must be more than zero.", pointer=AMOUNT_POINTER, code="invalid-amount")
    amount = normalize(amount, order.currency)
    plan = _plan(session, order, amount, mark_refunded=mark_refunded)
    planned = sum((part for _, part in plan), Decimal(0))
    if planned < amount:
        raise InvalidValue(
            f"Only {format_amount(planned, order.currency)} of order {order.code} can be refunded; "
            f"{format_amount(amount, order.currency)} was asked for.",
            pointer=AMOUNT_POINTER,
            code="refund-exceeds-payments",
        )
    return [
        refund_payment(
            session,
            payment_id,
            amount=part,
            actor=actor,
            mark_refunded=mark_refunded,
            comment=comment,
            source=source,
            execute=execute,
        )
        for payment_id, part in plan
    ]


def execute_refund(session: Session, refund_id: int, *, actor: str) -> Refund:
    """Hand a ``created`` refund to its provider when the provider refunds by itself, and apply the
    :class:`RefundResult` it reports; otherwise (or when it is no longer ``created``) return it
    unchanged. A refusal marks it failed (not raised); anything but a :class:`RefundResult` raises
    :class:`ProviderContractError` and the unit of work rolls back (the refund stays ``created``)."""
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if refund.state != RefundState.CREATED or refund.payment is None:
        return refund
    # What the payment had left before this refund (which already counts as committed).
    available = rules.refundable_amount(refund.payment.amount, refunds_of_payment(session, refund.payment.id))
    available += refund.amount
    plugin = _plugin(session, order, refund.provider)
    if plugin is None or not _automatic(plugin, refund.payment, refund.amount, available):
        return refund
    refund.attempts += 1
    audit.record(session, order, actor, Action.REFUND_SENT, refund=refund.full_id, attempt=refund.attempts)
    session.flush()
    try:
        result = reported(plugin, plugin.execute_refund(refund), RefundResult)
    except PaymentError as exc:
        result = RefundResult.failed(exc.detail)
    except ProviderUnavailable as exc:  # handed over, verdict unknown: in transit for a callback or the janitor
        reconcile.apply_refund_result(session, refund.id, RefundResult.transit(), actor=plugin.actor)
        refund.info = {**refund.info, "message": f"The outcome is not known yet: {exc}"}
        return refund
    reconcile.apply_refund_result(session, refund.id, result, actor=plugin.actor)
    return refund


def process_refund(session: Session, refund_id: int, *, actor: str) -> Refund:
    """Retry a ``created`` refund through its provider (``POST /v1/refunds/{id}/process``).

    409 when the refund is not ``created``, or when its provider cannot refund by itself (the
    organizer carries it out and marks it done). A refusal marks it failed and is returned.
    """
    refund = lock_refund(session, refund_id)
    if refund.state != RefundState.CREATED:
        raise Conflict(
            f"Refund {refund.full_id} is {refund.state}; only created refunds can be processed.",
            code="refund-not-created",
        )
    refund = execute_refund(session, refund_id, actor=actor)
    if refund.state == RefundState.CREATED:
        raise Conflict(
            f"{refund.provider} cannot refund by itself: carry out refund {refund.full_id} and mark it done.",
            code="refund-manual",
        )
    return refund


def raise_if_failed(refunds: Iterable[Refund]) -> None:
    """Raise :class:`RefundDeclined` with the provider's message for the first failed refund."""
    for refund in refunds:
        if refund.state == RefundState.FAILED:
            raise RefundDeclined(
                refund.info.get("message") or f"Refund {refund.full_id} was declined.",
                meta={"refund": refund.full_id},
            )


def refund_now(
    payment_id: int,
    *,
    amount: Decimal,
    actor: str,
    mark_refunded: bool = False,
    comment: str | None = None,
    source: RefundSource = RefundSource.ADMIN,
    uow: UnitOfWork = unit_of_work,
) -> Refund:
    """:func:`refund_payment` write-ahead: the refund is committed before its provider is called;
    :class:`RefundDeclined` is raised after a refusal is committed."""
    [done] = write_ahead(
        uow,
        lambda session: [
            refund_payment(
                session,
                payment_id,
                amount=amount,
                actor=actor,
                mark_refunded=mark_refunded,
                comment=comment,
                source=source,
                execute=False,
            ).id
        ],
        lambda session, refund_id: execute_refund(session, refund_id, actor=actor),
    )
    raise_if_failed([done])
    return done


def give_back(
    order_id: int,
    *,
    amount: Decimal,
    actor: str,
    mark_refunded: bool = False,
    comment: str | None = None,
    source: RefundSource = RefundSource.ADMIN,
    uow: UnitOfWork = unit_of_work,
) -> list[Refund]:
    """:func:`refund_order` write-ahead: all refunds are committed first, then each is executed in
    a unit of work of its own (one refusal does not undo another refund's success);
    :class:`RefundDeclined` is raised after everything is committed when one was refused."""
    results = write_ahead(
        uow,
        lambda session: [
            r.id
            for r in refund_order(
                session,
                order_id,
                amount=amount,
                actor=actor,
                mark_refunded=mark_refunded,
                comment=comment,
                source=source,
                execute=False,
            )
        ],
        lambda session, refund_id: execute_refund(session, refund_id, actor=actor),
    )
    raise_if_failed(results)
    return results
