"""The sandbox "processor": an in-process stand-in for a remote card processor.

It knows nothing about orders or payments. Callers create an intent (amount in minor units, a card,
their own references as metadata, an idempotency key), confirm it, and refund it; it answers with
its own objects and reports every asynchronous outcome (a card holder's confirmation, a cancellation,
a refund) as a signed event to boxoffice's inbox — the way Stripe calls ``/v1/webhooks/stripe``. The
callback is handed to :func:`boxoffice.inbox.service.deliver` right away, inside the caller's
transaction, through the inbox's verify → store → process path. A charge confirmed synchronously
(:func:`confirm_intent`) is answered in the returned intent only: the caller reports it to the core
as the provider's result, so no callback has to be stored and applied for it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from boxoffice.db import dialect_insert
from boxoffice.kit.clock import now
from boxoffice.providers.sandbox import signing
from boxoffice.providers.sandbox.cards import DECLINE_MESSAGE, Behaviour, Card
from boxoffice.providers.sandbox.models import SandboxIntent, SandboxRefund

PROVIDER = "sandbox"


class ProcessorError(Exception):
    """The processor refused a request (unknown intent, nothing left to refund, …)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _new_id(prefix: str) -> str:
    return f"sbx_{prefix}_{secrets.token_hex(12)}"


def _intent(session: Session, intent_id: str) -> SandboxIntent:
    intent = session.execute(
        select(SandboxIntent).where(SandboxIntent.intent_id == intent_id).with_for_update()
    ).scalar_one_or_none()
    if intent is None:
        raise ProcessorError(f"No such intent: {intent_id}.")
    return intent


def intent_for_key(session: Session, idempotency_key: str) -> SandboxIntent | None:
    """The intent made with ``idempotency_key``, if any."""
    return session.execute(
        select(SandboxIntent).where(SandboxIntent.idempotency_key == idempotency_key)
    ).scalar_one_or_none()


def create_intent(
    session: Session, *, amount: int, currency: str, card: Card, metadata: Mapping[str, str], idempotency_key: str
) -> SandboxIntent:
    """A new intent waiting for confirmation; the same key returns the intent made the first time.

    One ``INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING``: two calls racing with one
    key make one intent (the second waits for the first, then reads what it made), as a remote
    processor's idempotency keys do.
    """
    if amount <= 0:
        raise ProcessorError("The amount must be positive.")
    values = {
        "intent_id": _new_id("pi"),
        "idempotency_key": idempotency_key,
        "amount": amount,
        "currency": currency.lower(),
        "status": "requires_confirmation",
        "behaviour": card.behaviour.value,
        "card_brand": card.brand,
        "card_last4": card.last4,
        "meta": dict(metadata),
    }
    statement = dialect_insert(session, SandboxIntent).values(**values)
    statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    made = session.scalars(statement.returning(SandboxIntent)).one_or_none()
    if made is not None:
        return made
    made = intent_for_key(session, idempotency_key)
    assert made is not None  # the conflicting intent exists: only a committed one makes a conflict
    return made


def confirm_intent(session: Session, idempotency_key: str) -> SandboxIntent:
    """Charge the card of the intent made with ``idempotency_key``; the returned intent carries the
    outcome (no callback: the caller has it already). Confirming twice answers with the intent as it
    stands (no second charge).

    One conditional ``UPDATE … RETURNING``, the card's behaviour picking the new status, so two
    confirmations racing charge once. The processor is another system that shares the connection:
    it never needs the caller's pending changes flushed first.
    """
    behaviour = SandboxIntent.behaviour
    needs_action = behaviour == Behaviour.REQUIRE_ACTION.value
    declines = behaviour == Behaviour.DECLINE.value
    statement = (
        update(SandboxIntent)
        .where(SandboxIntent.idempotency_key == idempotency_key, SandboxIntent.status == "requires_confirmation")
        .values(
            status=case((needs_action, "requires_action"), (declines, "failed"), else_="succeeded"),
            last_error=case((declines, DECLINE_MESSAGE), else_=None),
            confirmation_token=case((needs_action, secrets.token_urlsafe(24)), else_=None),
        )
        .returning(SandboxIntent)
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:
        intent = session.scalars(statement).one_or_none()
        if intent is None:
            intent = intent_for_key(session, idempotency_key)
    if intent is None:
        raise ProcessorError(f"No intent was made with key {idempotency_key}.")
    return intent


def find_intent(session: Session, intent_id: str) -> SandboxIntent | None:
    return session.execute(select(SandboxIntent).where(SandboxIntent.intent_id == intent_id)).scalar_one_or_none()


def find_refund(session: Session, idempotency_key: str) -> SandboxRefund | None:
    return session.execute(
        select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
    ).scalar_one_or_none()


def intent_by_token(session: Session, token: str) -> SandboxIntent | None:
    return session.execute(
        select(SandboxIntent).where(SandboxIntent.confirmation_token == token)
    ).scalar_one_or_none()


def authenticate(session: Session, token: str, *, approve: bool) -> SandboxIntent:
    """The card holder's answer on the confirmation page (3-D Secure, in real life)."""
    found = intent_by_token(session, token)
    if found is None:
        raise ProcessorError("This confirmation link is not valid.")
    intent = _intent(session, found.intent_id)
    if intent.status == "requires_action":
        if approve:
            _settle(session, intent, "succeeded")
        else:
            _settle(session, intent, "failed", error="The card holder did not confirm the payment.")
    return intent


def cancel_intent(session: Session, intent_id: str) -> SandboxIntent:
    """Cancel an intent that has not charged the card; a succeeded one cannot be canceled."""
    intent = _intent(session, intent_id)
    if intent.status == "succeeded":
        raise ProcessorError("The payment has already succeeded and cannot be canceled.")
    if intent.status in ("requires_confirmation", "requires_action"):
        _settle(session, intent, "canceled")
    return intent


def refunded_amount(session: Session, intent_id: str) -> int:
    total = session.execute(
        select(func.sum(SandboxRefund.amount)).where(
            SandboxRefund.intent_id == intent_id, SandboxRefund.status == "succeeded"
        )
    ).scalar()
    return int(total or 0)


def refund(
    session: Session,
    intent_id: str,
    *,
    amount: int,
    metadata: Mapping[str, str] | None = None,
    idempotency_key: str | None = None,
) -> SandboxRefund:
    """Give ``amount`` (minor units) of a succeeded intent back; it always succeeds when it fits.

    Without ``idempotency_key`` and metadata it plays a refund made in the processor's dashboard.
    """
    if idempotency_key is not None:
        existing = find_refund(session, idempotency_key)
        if existing is not None:
            return existing
    intent = _intent(session, intent_id)
    if intent.status != "succeeded":
        raise ProcessorError(f"Intent {intent_id} has not succeeded; there is nothing to refund.")
    left = intent.amount - refunded_amount(session, intent_id)
    if not 0 < amount <= left:
        raise ProcessorError(f"A refund must be between 1 and {left} (minor units).")
    item = SandboxRefund(
        refund_id=_new_id("re"),
        intent_id=intent_id,
        idempotency_key=idempotency_key,
        amount=amount,
        status="succeeded",
        meta=dict(metadata or {}),
    )
    session.add(item)
    session.flush()
    _emit(session, "refund.succeeded", _refund_object(item, intent))
    return item


def _settle(
    session: Session, intent: SandboxIntent, status: str, *, error: str | None = None, report: bool = True
) -> None:
    intent.status = status
    intent.last_error = error
    intent.confirmation_token = None
    session.flush()
    if not report:
        return
    event_type = {
        "succeeded": "payment_intent.succeeded",
        "failed": "payment_intent.payment_failed",
        "canceled": "payment_intent.canceled",
    }[status]
    _emit(session, event_type, intent_object(intent))


def intent_object(intent: SandboxIntent) -> dict[str, Any]:
    """The intent as the processor shows it on the wire."""
    return {
        "id": intent.intent_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "currency": intent.currency,
        "status": intent.status,
        "last_error": intent.last_error,
        "metadata": dict(intent.meta),
    }


def _refund_object(item: SandboxRefund, intent: SandboxIntent) -> dict[str, Any]:
    return {
        "id": item.refund_id,
        "object": "refund",
        "payment_intent": item.intent_id,
        "amount": item.amount,
        "currency": intent.currency,
        "status": item.status,
        "metadata": dict(item.meta),
    }


def event_body(event_type: str, obj: dict[str, Any], *, created: int) -> bytes:
    """A callback body: an event with the processor's own id around the object it is about."""
    event = {"id": _new_id("evt"), "object": "event", "type": event_type, "created": created, "data": {"object": obj}}
    return json.dumps(event, separators=(",", ":")).encode()


def _emit(session: Session, event_type: str, obj: dict[str, Any]) -> None:
    # Imported here: the inbox loads providers, which load this module.
    from boxoffice.inbox.service import deliver

    created = int(now().timestamp())
    body = event_body(event_type, obj, created=created)
    headers = {signing.HEADER: signing.sign(signing.webhook_key(session), body, created)}
    deliver(session, PROVIDER, headers, body)
