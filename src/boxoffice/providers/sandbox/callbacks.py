"""What the sandbox processor's callbacks mean for boxoffice's payments and refunds.

Each event carries the processor's object; our references travel in its metadata (``event``: our
event id, ``payment`` / ``refund``: the attempt's full id such as ``ABCDE-P-1``). Every change goes
through :mod:`boxoffice.payments.service`, so a callback that arrives twice changes nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.kit.clock import now
from boxoffice.kit.money import from_minor_units
from boxoffice.orders.models import Order
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import OPEN_PAYMENT_STATES, OPEN_REFUND_STATES, RefundState
from boxoffice.providers.sandbox import signing
from boxoffice.providers.sandbox.processor import PROVIDER
from boxoffice.providers.webhooks import (
    IncomingEvent,
    WebhookNotReady,
    WebhookResult,
    WebhookSignatureInvalid,
)

ACTOR = f"provider:{PROVIDER}"


def verify(session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    """The event in a signed callback body; :class:`WebhookSignatureInvalid` when it is not ours."""
    try:
        signing.verify(
            signing.webhook_key(session), headers.get(signing.HEADER), body, now=int(now().timestamp())
        )
        event = json.loads(body)
    except (signing.SignatureMismatch, ValueError) as exc:
        raise WebhookSignatureInvalid(f"Sandbox callback refused: {exc}") from exc
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)):
        raise WebhookSignatureInvalid("Sandbox callback refused: the signed body is not an event.")
    obj = _object(event)
    return [IncomingEvent(event["id"], event["type"], event, organizer_id=_organizer_of(session, obj))]


def _object(event: Mapping[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}


def _organizer_of(session: Session, obj: Mapping[str, Any]) -> int | None:
    event_id = _metadata(obj).get("event", "")
    if not event_id.isdigit():
        return None
    return session.execute(select(Event.organizer_id).where(Event.id == int(event_id))).scalar()


def process(session: Session, event_type: str, payload: Mapping[str, Any]) -> WebhookResult:
    """Apply one stored sandbox event."""
    obj = _object(payload)
    if event_type == "payment_intent.succeeded":
        return _payment_succeeded(session, obj)
    if event_type == "payment_intent.payment_failed":
        return _payment_ended(session, obj, payments.fail_payment)
    if event_type == "payment_intent.canceled":
        return _payment_ended(session, obj, payments.cancel_payment)
    if event_type == "refund.succeeded":
        return _refund_succeeded(session, obj)
    return WebhookResult.ignored(f"The sandbox does not act on '{event_type}'.")


def _by_full_id(session: Session, model: type[Payment] | type[Refund], obj: Mapping[str, Any], key: str) -> Any:
    """Our attempt named in the object's metadata, or None (metadata present but row not there yet
    raises :class:`WebhookNotReady`)."""
    meta = _metadata(obj)
    full_id, event_id = meta.get(key, ""), meta.get("event", "")
    parts = full_id.rsplit("-", 2)  # CODE-P-1
    if len(parts) != 3 or parts[1] not in ("P", "R") or not parts[2].isdigit() or not event_id.isdigit():
        return None
    code, local = parts[0], parts[2]
    row = session.execute(
        select(model)
        .join(Order, Order.id == model.order_id)
        .where(Order.event_id == int(event_id), Order.code == code, model.local_id == int(local))
    ).scalar_one_or_none()
    if row is None:
        raise WebhookNotReady(f"{full_id} of event {event_id} is not there yet")
    return row


def _currency_amount(obj: Mapping[str, Any], currency: str) -> Decimal:
    return from_minor_units(int(obj["amount"]), currency)


def _payment_succeeded(session: Session, obj: Mapping[str, Any]) -> WebhookResult:
    payment = _by_full_id(session, Payment, obj, "payment")
    if payment is None:
        return WebhookResult.ignored("The intent names no boxoffice payment.")
    if payment.provider != PROVIDER or payment.provider_reference not in (None, obj.get("id")):
        return WebhookResult.ignored(f"Payment {payment.full_id} belongs to another intent.", payment.order_id)
    if payment.provider_reference is None:
        payment.provider_reference = str(obj.get("id"))
    amount = _currency_amount(obj, payment.order.currency)
    result = payments.confirm_payment(session, payment.id, actor=ACTOR, amount=amount)
    return WebhookResult.processed(payment.order_id, f"payment {payment.full_id}: {result.outcome.value}")


def _payment_ended(session: Session, obj: Mapping[str, Any], move: Callable[..., Payment]) -> WebhookResult:
    payment = _by_full_id(session, Payment, obj, "payment")
    if payment is None:
        return WebhookResult.ignored("The intent names no boxoffice payment.")
    if payment.state not in OPEN_PAYMENT_STATES:
        # Money already confirmed (or the attempt already ended) stays as the books have it.
        return WebhookResult.ignored(f"Payment {payment.full_id} is {payment.state}.", payment.order_id)
    move(session, payment.id, actor=ACTOR, message=obj.get("last_error") or None)
    return WebhookResult.processed(payment.order_id)


def _refund_succeeded(session: Session, obj: Mapping[str, Any]) -> WebhookResult:
    refund = _by_full_id(session, Refund, obj, "refund")
    if refund is not None:
        if refund.state not in OPEN_REFUND_STATES - {RefundState.EXTERNAL}:
            return WebhookResult.ignored(f"Refund {refund.full_id} is {refund.state}.", refund.order_id)
        refund.provider_reference = str(obj.get("id"))
        payments.mark_refund_done(session, refund.id, actor=ACTOR)
        return WebhookResult.processed(refund.order_id)
    # Made in the processor's dashboard: money went back outside boxoffice.
    reference = str(obj.get("id"))
    payment = session.execute(
        select(Payment).where(Payment.provider == PROVIDER, Payment.provider_reference == str(obj.get("payment_intent")))
    ).scalar_one_or_none()
    if payment is None:
        raise WebhookNotReady(f"no payment for intent {obj.get('payment_intent')} yet")
    known = session.execute(
        select(Refund.id).where(Refund.provider == PROVIDER, Refund.provider_reference == reference)
    ).first()
    if known:
        return WebhookResult.ignored(f"Refund {reference} is already recorded.", payment.order_id)
    payments.create_external_refund(
        session,
        payment.order_id,
        amount=_currency_amount(obj, payment.order.currency),
        actor=ACTOR,
        provider=PROVIDER,
        payment_id=payment.id,
        reference=reference,
        comment="Refunded in the sandbox processor, outside boxoffice.",
    )
    return WebhookResult.processed(payment.order_id)
