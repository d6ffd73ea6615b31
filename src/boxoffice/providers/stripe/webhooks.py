"""Stripe webhook events: whose secret signs them, and what each one does to our attempts.

Verification. Each event (boxoffice event) has its own ``webhook-secret``, so the secret is found
from the payload: the payment or refund its object names (metadata, or the PaymentIntent id) leads
to the event whose secret must have signed it. Only when the payload names nothing of ours are the
secrets of every event tried — such an event is stored and then ignored, and the organizer whose
secret verified it is recorded, so it can never act on another organizer's payments.

Handled types: ``payment_intent.succeeded|payment_failed|canceled`` move the payment;
``charge.refunded`` and ``charge.refund.updated`` settle our refunds and record refunds made in the
Stripe dashboard as external refunds; ``charge.dispute.created`` records the disputed amount as an
external refund waiting for the organizer; ``charge.dispute.closed`` notes the outcome (won: the
money came back, so that refund is canceled while it still waits).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.kit.clock import now
from boxoffice.orders import audit
from boxoffice.orders.repository import lock_order
from boxoffice.payments.models import Payment
from boxoffice.payments.rules import PaymentState, RefundState
from boxoffice.providers.base import RemoteStatus
from boxoffice.providers.reconcile import (
    apply_payment_status,
    apply_refund_status,
    close_dispute,
    record_external_refund,
    refund_by_reference,
    remember_payment_reference,
)
from boxoffice.providers.stripe import lookup, rules
from boxoffice.providers.stripe.gateway import (
    RefundResult,
    SignatureInvalid,
    StripeGatewayError,
    from_minor_units,
    read_intent,
    read_refund,
    verify_event,
)
from boxoffice.providers.stripe.settings import IDENTIFIER, StripeSettings, gateway_for
from boxoffice.providers.webhooks import IncomingEvent, WebhookNotReady, WebhookResult, WebhookSignatureInvalid

if TYPE_CHECKING:
    from boxoffice.inbox.models import ProviderEvent

ACTOR = f"provider:{IDENTIFIER}"
# Stripe's own default: a signature older than five minutes is a replay.
TOLERANCE_SECONDS = 300


# -- verification -------------------------------------------------------------------------------


def _settings(event: Event) -> StripeSettings:
    return StripeSettings.load((event.payment_providers or {}).get(IDENTIFIER) or {})


def _secrets_of(session: Session, claimed: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    """``(webhook secret, organizer id)`` pairs to try, the payload's own event first."""
    obj = _object(claimed)
    payment = lookup.payment_of(session, obj)
    if payment is not None:
        event = payment.order.event
        secret = _settings(event).webhook_secret
        return [(secret, event.organizer_id)] if secret else []
    by_secret: dict[str, set[int]] = {}
    for organizer_id, providers in session.execute(select(Event.organizer_id, Event.payment_providers)):
        secret = StripeSettings.load((providers or {}).get(IDENTIFIER) or {}).webhook_secret
        if secret:
            by_secret.setdefault(secret, set()).add(organizer_id)
    # A secret shared by several organizers' events cannot say whose the event is.
    return [(secret, next(iter(owners)) if len(owners) == 1 else None) for secret, owners in by_secret.items()]


def verify(session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    """The event in ``body`` if its ``Stripe-Signature`` is made with the secret of the event it is about."""
    header = headers.get("stripe-signature")
    if not header:
        raise WebhookSignatureInvalid("The Stripe-Signature header is missing.")
    try:
        claimed = json.loads(body)
    except ValueError as error:
        raise WebhookSignatureInvalid("The body is not a Stripe event.") from error
    if not isinstance(claimed, dict):
        raise WebhookSignatureInvalid("The body is not a Stripe event.")
    if not rules.signed_recently(header, int(now().timestamp()), TOLERANCE_SECONDS):
        # The SDK refuses only old signatures; one dated ahead would stay replayable until then.
        raise WebhookSignatureInvalid("The Stripe-Signature is dated more than five minutes away from now.")
    for secret, organizer_id in _secrets_of(session, claimed):
        try:
            event = verify_event(body, header, secret, TOLERANCE_SECONDS)
        except SignatureInvalid:
            continue
        return [IncomingEvent(str(event["id"]), str(event["type"]), event, organizer_id)]
    raise WebhookSignatureInvalid("The Stripe-Signature does not match this event's webhook secret, or is too old.")


# -- processing ---------------------------------------------------------------------------------


def _object(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    return obj if isinstance(obj, Mapping) else {}


def _amount(obj: Mapping[str, Any], payment: Payment) -> Decimal | None:
    """The object's amount, when it is in the order's currency."""
    minor, currency = obj.get("amount"), obj.get("currency")
    if not isinstance(minor, int) or not isinstance(currency, str) or currency.upper() != payment.order.currency:
        return None
    return from_minor_units(minor, currency)


Handler = Callable[[Session, Payment, Mapping[str, Any]], WebhookResult]


def process(session: Session, event: ProviderEvent) -> WebhookResult:
    """Apply one stored Stripe event to our attempts (idempotent: replays change nothing)."""
    handler = _HANDLERS.get(event.event_type)
    if handler is None:
        return WebhookResult.ignored(f"'{event.event_type}' is not handled.")
    obj = _object(event.payload)
    payment = lookup.payment_of(session, obj)
    if payment is None:
        return WebhookResult.ignored("The event is about no payment of ours.")
    order = payment.order
    if event.organizer_id is None or event.organizer_id != order.event.organizer_id:
        return WebhookResult.ignored("The event was not signed with this payment's webhook secret.", order.id)
    # Everything below waits for a use case holding this order (a refund being made, a return).
    lock_order(session, order.id)
    return handler(session, payment, obj)


def _intent_changed(session: Session, payment: Payment, obj: Mapping[str, Any]) -> WebhookResult:
    intent = read_intent(obj)
    if intent.intent_id:
        remember_payment_reference(session, payment.id, intent.intent_id, charge=intent.charge_id)
    state = rules.intent_state(intent.status)
    if state == PaymentState.CONFIRMED and _amount(obj, payment) is None:
        return WebhookResult.ignored("The PaymentIntent is not in the order's currency.", payment.order_id)
    remote = RemoteStatus(state, _amount(obj, payment), intent.failure_message)
    move = apply_payment_status(session, payment.id, remote, actor=ACTOR)
    return WebhookResult.processed(payment.order_id, f"{payment.full_id}: {move or 'unchanged'}")


def _charge_refunded(session: Session, payment: Payment, obj: Mapping[str, Any]) -> WebhookResult:
    # Charges no longer carry their refunds in events, so ask Stripe which refunds there are.
    intent_id = payment.provider_reference or lookup.intent_id_of(obj)
    if not intent_id:
        return WebhookResult.ignored("The charge names no PaymentIntent.", payment.order_id)
    settings = _settings(payment.order.event)
    try:
        found = gateway_for(settings).refunds_of(intent_id)
    except StripeGatewayError as error:
        # Stripe is unreachable now: the inbox keeps the event and tries again later.
        raise WebhookNotReady(f"Stripe did not list the refunds of {intent_id}: {error.message}") from error
    outcomes = [_settle_refund(session, payment, refund) for refund in found]
    return WebhookResult.processed(payment.order_id, "; ".join(outcomes) or "no refunds")


def _refund_updated(session: Session, payment: Payment, obj: Mapping[str, Any]) -> WebhookResult:
    return WebhookResult.processed(payment.order_id, _settle_refund(session, payment, read_refund(obj)))


def _settle_refund(session: Session, payment: Payment, found: RefundResult) -> str:
    """Bring our books in line with one Stripe refund of ``payment``; says what it did."""
    if not found.refund_id:
        return "a refund without id"
    remote = RemoteStatus(rules.refund_state(found.status), found.amount, found.failure_message)
    if lookup.claims_refund(found.metadata):
        ours = lookup.named_refund(session, found.metadata)
        if ours is None:
            # Our refund's row is not committed yet: try again once it is.
            raise WebhookNotReady(f"refund {found.metadata.get(rules.REFUND_KEY)} is not there yet")
        move = apply_refund_status(session, ours.id, remote, actor=ACTOR, reference=found.refund_id)
        return f"{ours.full_id}: {move or 'unchanged'}"
    known = refund_by_reference(session, IDENTIFIER, found.refund_id)
    if known is not None:
        move = apply_refund_status(session, known.id, remote, actor=ACTOR)
        return f"{known.full_id}: {move or 'unchanged'}"
    if remote.state not in (RefundState.DONE, RefundState.TRANSIT):
        return f"{found.refund_id}: {found.status}, no money moved"
    if found.amount is None or found.currency != payment.order.currency:
        return f"{found.refund_id}: not in the order's currency"
    refund = record_external_refund(
        session,
        payment,
        amount=found.amount,
        reference=found.refund_id,
        actor=ACTOR,
        comment=f"Refunded in the Stripe dashboard ({found.refund_id}).",
        info={"kind": "refund", "stripe-refund": found.refund_id},
    )
    return f"{refund.full_id if refund else found.refund_id}: external refund"


def _dispute_created(session: Session, payment: Payment, obj: Mapping[str, Any]) -> WebhookResult:
    dispute_id, status = str(obj.get("id")), str(obj.get("status", ""))
    reason = str(obj.get("reason") or "unknown reason")
    if not rules.dispute_takes_money(status):
        audit.record(
            session, payment.order, ACTOR, "payment.dispute-inquiry", payment=payment.full_id, dispute=dispute_id,
            reason=reason, detail="The buyer's bank asks about this payment; no money was taken (yet).",
        )  # fmt: skip
        return WebhookResult.processed(payment.order_id, f"{dispute_id}: inquiry noted")
    amount = _amount(obj, payment)
    if amount is None:
        return WebhookResult.ignored("The dispute is not in the order's currency.", payment.order_id)
    refund = record_external_refund(
        session,
        payment,
        amount=amount,
        reference=dispute_id,
        actor=ACTOR,
        comment=f"Stripe dispute {dispute_id} ({reason}): the buyer's bank took the money back.",
        info={"kind": "dispute", "dispute": dispute_id, "reason": reason},
    )
    return WebhookResult.processed(
        payment.order_id, f"{dispute_id}: {refund.full_id if refund else 'already recorded'}"
    )


def _dispute_closed(session: Session, payment: Payment, obj: Mapping[str, Any]) -> WebhookResult:
    dispute_id, status = str(obj.get("id")), str(obj.get("status", ""))
    won = rules.dispute_won(status)
    close_dispute(
        session,
        payment,
        refund_by_reference(session, IDENTIFIER, dispute_id),
        dispute=dispute_id,
        won=won,
        actor=ACTOR,
        detail=f"Stripe closed dispute {dispute_id}: {status}.",
    )
    return WebhookResult.processed(payment.order_id, f"{dispute_id}: {'won' if won else status}")


_HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _intent_changed,
    "payment_intent.payment_failed": _intent_changed,
    "payment_intent.canceled": _intent_changed,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund_updated,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
# What the organizer subscribes the Stripe webhook endpoint to (docs/providers.md).
EVENT_TYPES = tuple(_HANDLERS)
