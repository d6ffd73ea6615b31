"""Apply what a provider reports about its side to our attempts, through the payment services.

The one way a provider's news moves an attempt: the core applies the :class:`PaymentResult` /
:class:`RefundResult` of ``execute_payment`` / ``execute_refund`` here, remote providers their
webhook handlers and return routes, the janitor its status checks. Each
function locks the order row first (the lock order of :mod:`boxoffice.payments.service`), so news
arriving twice at once — a webhook and the buyer's return — is applied once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.repository import lock_order
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import lock_payment, lock_refund, order_id_of_payment, order_id_of_refund
from boxoffice.payments.rules import PaymentState, RefundState
from boxoffice.providers.base import REDIRECT_URL, PaymentResult, RefundResult, RemoteStatus
from boxoffice.providers.reconcile_rules import PaymentMove, RefundMove, payment_move, refund_move


def apply_payment_status(session: Session, payment_id: int, remote: RemoteStatus, *, actor: str) -> PaymentMove | None:
    """Move payment ``payment_id`` as ``remote`` says; returns the move made (None: nothing to do).

    ``remote.amount`` is what the provider took: confirming with it keeps the books on the money.
    """
    lock_order(session, order_id_of_payment(session, payment_id))
    payment = lock_payment(session, payment_id)
    move = payment_move(payment.state, remote.state)
    if move == PaymentMove.CONFIRM:
        payments.confirm_payment(session, payment.id, actor=actor, amount=remote.amount)
    elif move == PaymentMove.PENDING:
        payments.set_payment_pending(session, payment.id, actor=actor)
    elif move == PaymentMove.FAIL:
        payments.fail_payment(session, payment.id, actor=actor, message=remote.message)
    elif move == PaymentMove.CANCEL:
        payments.cancel_payment(session, payment.id, actor=actor, message=remote.message)
    return move


def apply_refund_status(
    session: Session, refund_id: int, remote: RemoteStatus, *, actor: str, reference: str | None = None
) -> RefundMove | None:
    """Move refund ``refund_id`` as ``remote`` says, remembering the provider's ``reference`` for it."""
    order = lock_order(session, order_id_of_refund(session, refund_id))
    refund = lock_refund(session, refund_id)
    if reference and not refund.provider_reference:
        refund.provider_reference = reference
    move = refund_move(refund.state, remote.state)
    if move == RefundMove.DONE:
        payments.mark_refund_done(session, refund.id, actor=actor)
    elif move == RefundMove.TRANSIT:
        payments.set_refund_transit(session, refund.id, actor=actor)
    elif move == RefundMove.FAIL:
        payments.mark_refund_failed(session, refund.id, actor=actor, message=remote.message)
    elif move == RefundMove.CANCEL:
        payments.cancel_refund(session, refund.id, actor=actor, message=remote.message)
    elif move == RefundMove.NOTE:
        audit.record(
            session,
            order,
            actor,
            Action.REFUND_PROVIDER_DISAGREES,
            refund=refund.full_id,
            state=refund.state,
            provider_state=remote.state,
            message=remote.message,
            detail="The provider reports a state this refund can no longer take; please check it.",
        )
    return move


def apply_payment_result(session: Session, payment_id: int, result: PaymentResult, *, actor: str) -> PaymentMove | None:
    """Apply an outcome a provider reported: remember its reference, move as :func:`apply_payment_status`,
    and keep its ``redirect_url`` for the buyer while the attempt is pending."""
    payment = remember_payment_reference(session, payment_id, result.reference)
    move = apply_payment_status(session, payment_id, RemoteStatus(result.state, result.amount, result.message), actor=actor)
    if result.redirect_url and payment.state == PaymentState.PENDING:
        payment.info = {**payment.info, REDIRECT_URL: result.redirect_url}
    return move


def apply_refund_result(session: Session, refund_id: int, result: RefundResult, *, actor: str) -> RefundMove | None:
    """Apply a refund outcome a provider reported, as :func:`apply_refund_status`."""
    remote = RemoteStatus(result.state, message=result.message)
    return apply_refund_status(session, refund_id, remote, actor=actor, reference=result.reference)


def remember_payment_reference(session: Session, payment_id: int, reference: str | None, **info: Any) -> Payment:
    """Store the provider's id of an attempt (and provider data) so callbacks and checks find it.

    A reference once set is never replaced: a different one means another remote object.
    """
    lock_order(session, order_id_of_payment(session, payment_id))
    payment = lock_payment(session, payment_id)
    if reference and not payment.provider_reference:
        payment.provider_reference = reference
    extra = {k: v for k, v in info.items() if v is not None and payment.info.get(k) != v}
    if extra:
        payment.info = {**payment.info, **extra}
    return payment


def refund_by_reference(session: Session, provider: str, reference: str) -> Refund | None:
    """Our refund (of any kind) that ``provider`` knows as ``reference``."""
    return session.execute(
        select(Refund).where(Refund.provider == provider, Refund.provider_reference == reference).limit(1)
    ).scalar_one_or_none()


def record_external_refund(
    session: Session,
    payment: Payment,
    *,
    amount: Decimal,
    reference: str,
    actor: str,
    comment: str,
    info: dict[str, Any] | None = None,
) -> Refund | None:
    """Record money the provider gave back without us (dashboard refund, dispute, reversal) once.

    The refund waits in ``external`` for the organizer's decision. Returns None when a refund with
    this provider reference is already recorded — the same news told again, or our own refund.
    """
    lock_order(session, payment.order_id)
    if refund_by_reference(session, payment.provider, reference) is not None:
        return None
    return payments.create_external_refund(
        session,
        payment.order_id,
        amount=amount,
        actor=actor,
        provider=payment.provider,
        payment_id=payment.id,
        comment=comment,
        reference=reference,
        info=info,
    )


def close_dispute(
    session: Session, payment: Payment, refund: Refund | None, *, dispute: str, won: bool, actor: str, detail: str
) -> None:
    """Note a dispute's end on the order. Won: the money came back, so ``refund`` — the external
    refund recorded for the dispute — is canceled while it still waits for the organizer's decision."""
    order = lock_order(session, payment.order_id)
    audit.record(
        session,
        order,
        actor,
        Action.PAYMENT_DISPUTE_WON if won else Action.PAYMENT_DISPUTE_LOST,
        payment=payment.full_id,
        dispute=dispute,
        refund=refund.full_id if refund else None,
        detail=detail,
    )
    if not won or refund is None:
        return
    refund = lock_refund(session, refund.id)
    if refund.state == RefundState.EXTERNAL:
        payments.cancel_refund(session, refund.id, actor=actor, message="Dispute won: the money came back.")
    elif refund.state == RefundState.DONE:
        audit.record(
            session,
            order,
            actor,
            Action.PAYMENT_DISPUTE_MONEY_BACK,
            payment=payment.full_id,
            refund=refund.full_id,
            amount=refund.amount,
            detail="The dispute was won after its refund had been accepted: the money is back with the "
            "organizer. Record it as a payment if the order should stand.",
        )
