"""PayPal webhook events: verified by PayPal itself, then applied to our attempts.

Verification. PayPal signs with a certificate and leaves checking to its
``verify-webhook-signature`` call, made with the REST app and ``webhook-id`` of the boxoffice event
the payload is about (found through our mark or the capture id). Only when the payload names nothing
of ours are the other configured apps tried (at most :data:`MAX_FALLBACK`); such an event is stored,
recorded as that organizer's, and ignored. When PayPal cannot be asked, the answer is 503, so
PayPal delivers again later instead of the event being refused as forged.

Handled: ``PAYMENT.CAPTURE.COMPLETED|PENDING|DECLINED|DENIED`` move the payment;
``CHECKOUT.ORDER.APPROVED`` captures an approved order whose buyer never came back;
``PAYMENT.CAPTURE.REFUNDED`` settles our refunds and records refunds made at PayPal as external
refunds; ``PAYMENT.CAPTURE.REVERSED`` and ``CUSTOMER.DISPUTE.CREATED`` record the money taken back
as an external refund waiting for the organizer (one refund when both report the same chargeback);
``CUSTOMER.DISPUTE.RESOLVED`` notes the outcome and, when won, cancels that refund while it waits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.catalogue.models import Event
from boxoffice.errors import DomainError
from boxoffice.orders import audit
from boxoffice.orders.actions import Action
from boxoffice.orders.repository import lock_order
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import lock_payment
from boxoffice.payments.rules import RefundSource, RefundState
from boxoffice.providers.base import ProviderUnavailable, RemoteStatus
from boxoffice.providers.paypal import lookup, rules
from boxoffice.providers.paypal.client import PayPalConfigError, PayPalUnavailable, parse_money
from boxoffice.providers.paypal.settings import IDENTIFIER, PayPalSettings, client_for
from boxoffice.providers.reconcile import (
    apply_payment_status,
    apply_refund_status,
    close_dispute,
    record_external_refund,
    refund_by_reference,
    remember_payment_reference,
)
from boxoffice.providers.registry import provider_for
from boxoffice.providers.webhooks import IncomingEvent, WebhookNotReady, WebhookResult, WebhookSignatureInvalid

if TYPE_CHECKING:
    from boxoffice.inbox.models import ProviderEvent

ACTOR = f"provider:{IDENTIFIER}"
# PayPal's answers by callback (app, webhook, transmission headers and body), for repeats of one callback.
VERDICTS: TTLCache[str, bool] = TTLCache(maxsize=1024, ttl=300)


class VerificationUnavailable(DomainError):
    """PayPal could not be asked whether a callback is genuine: 503, and PayPal delivers it again."""

    status = 503
    code = "provider-unavailable"
    title = "Provider unavailable"


# -- verification -------------------------------------------------------------------------------


def _settings(event: Event) -> PayPalSettings:
    return PayPalSettings.load((event.payment_providers or {}).get(IDENTIFIER) or {})


def _resource(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    resource = payload.get("resource")
    return resource if isinstance(resource, Mapping) else {}


def _app_to_ask(session: Session, claimed: Mapping[str, Any]) -> tuple[PayPalSettings, int | None] | None:
    """The one app to ask, with the organizer it speaks for: the payload's own event's, else the only
    configured one; None when there is none, or several and the payload does not say which."""
    payment = lookup.payment_of(session, str(claimed.get("event_type", "")), _resource(claimed))
    if payment is not None:
        event = payment.order.event
        settings = _settings(event)
        return (settings, event.organizer_id) if settings.webhook_id else None
    apps: dict[tuple[str, str, str, bool], tuple[PayPalSettings, set[int]]] = {}
    for organizer_id, providers in session.execute(select(Event.organizer_id, Event.payment_providers)):
        settings = PayPalSettings.load((providers or {}).get(IDENTIFIER) or {})
        if settings.webhook_id and settings.client_id and settings.client_secret:
            key = (settings.client_id, settings.client_secret, settings.webhook_id, settings.sandbox)
            apps.setdefault(key, (settings, set()))[1].add(organizer_id)
    if len(apps) != 1:
        return None
    [(settings, owners)] = apps.values()
    return settings, next(iter(owners)) if len(owners) == 1 else None


def _verdict_key(settings: PayPalSettings, headers: Mapping[str, str], body: bytes) -> str:
    digest = hashlib.sha256()
    parts = [settings.client_id, settings.webhook_id, str(settings.sandbox)]
    parts += [f"{name}={value}" for name, value in sorted(headers.items()) if name.startswith("paypal-")]
    for part in parts:
        digest.update(part.encode() + b"\x00")
    digest.update(body)
    return digest.hexdigest()


def _genuine(settings: PayPalSettings, headers: Mapping[str, str], body: bytes) -> bool:
    """PayPal's verdict on one callback: asked once, then remembered for a few minutes."""
    key = _verdict_key(settings, headers, body)
    known = VERDICTS.get(key)
    if known is None:
        known = VERDICTS[key] = client_for(settings).verify_webhook_signature(headers, body, settings.webhook_id)
    return known


def verify(session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    """The event in ``body`` if PayPal confirms it sent it for the webhook of the event it is about."""
    if not headers.get("paypal-transmission-sig"):
        raise WebhookSignatureInvalid("The PayPal transmission headers are missing.")
    try:
        claimed = json.loads(body)
    except ValueError as error:
        raise WebhookSignatureInvalid("The body is not a PayPal event.") from error
    if not isinstance(claimed, dict) or not isinstance(claimed.get("id"), str) or "event_type" not in claimed:
        raise WebhookSignatureInvalid("The body is not a PayPal event.")
    app = _app_to_ask(session, claimed)
    if app is None:
        if lookup.payment_of(session, str(claimed.get("event_type", "")), _resource(claimed)) is None:
            return []  # about nothing of ours, for no app we can tell: nothing to do, nobody to ask
        raise WebhookSignatureInvalid("PayPal did not confirm this callback for this event's webhook.")
    settings, organizer_id = app
    try:
        genuine = _genuine(settings, headers, body)
    except PayPalUnavailable as error:
        raise VerificationUnavailable(
            "PayPal could not be asked to verify this callback; deliver it again later."
        ) from error
    except PayPalConfigError:
        genuine = False
    if not genuine:
        raise WebhookSignatureInvalid("PayPal did not confirm this callback for this event's webhook.")
    return [IncomingEvent(claimed["id"], str(claimed["event_type"]), claimed, organizer_id)]


# -- processing ---------------------------------------------------------------------------------

Handler = Callable[[Session, Payment, Mapping[str, Any]], WebhookResult]


def process(session: Session, event: ProviderEvent) -> WebhookResult:
    """Apply one stored PayPal event to our attempts (idempotent: replays change nothing)."""
    handler = _HANDLERS.get(event.event_type)
    if handler is None:
        return WebhookResult.ignored(f"'{event.event_type}' is not handled.")
    resource = _resource(event.payload)
    payment = lookup.payment_of(session, event.event_type, resource)
    if payment is None:
        return WebhookResult.ignored("The event is about no payment of ours.")
    if event.organizer_id is None or event.organizer_id != payment.order.event.organizer_id:
        return WebhookResult.ignored("The event was not verified with this payment's PayPal app.", payment.order_id)
    # Wait for whoever holds the order (a capture, a refund being made), then look again.
    lock_order(session, payment.order_id)
    payment = lookup.follow(session, lock_payment(session, payment.id))
    return handler(session, payment, resource)


def _money(resource: Mapping[str, Any], key: str, payment: Payment) -> Decimal | None:
    amount, currency = parse_money(resource.get(key))
    return amount if currency == payment.order.currency else None


def _capture_changed(session: Session, payment: Payment, resource: Mapping[str, Any]) -> WebhookResult:
    capture_id = str(resource.get("id"))
    known = payment.info.get(lookup.CAPTURE_ID)
    if known and known != capture_id:
        return WebhookResult.ignored(f"{payment.full_id} holds capture {known}, not {capture_id}.", payment.order_id)
    remember_payment_reference(
        session, payment.id, lookup.related_order_id(resource), **{lookup.CAPTURE_ID: capture_id}
    )
    state = rules.capture_state(str(resource.get("status")))
    details = resource.get("status_details")
    reason = details.get("reason") if isinstance(details, Mapping) else None
    message = f"PayPal: {resource.get('status')}" + (f" ({reason})" if reason else "")
    remote = RemoteStatus(state, _money(resource, "amount", payment), message)
    move = apply_payment_status(session, payment.id, remote, actor=ACTOR)
    return WebhookResult.processed(payment.order_id, f"{payment.full_id}: {move or 'unchanged'}")


def _order_approved(session: Session, payment: Payment, resource: Mapping[str, Any]) -> WebhookResult:
    from boxoffice.providers.paypal.provider import PayPalProvider  # the provider module imports this one

    provider = provider_for(payment.order.event, IDENTIFIER, session)
    assert isinstance(provider, PayPalProvider)
    try:
        result = provider.capture_and_apply(payment, str(resource.get("id")))
    except ProviderUnavailable as error:
        raise WebhookNotReady(str(error)) from error
    if result is None:
        return WebhookResult.processed(payment.order_id, f"{payment.full_id}: already {payment.state}")
    return WebhookResult.processed(payment.order_id, f"{payment.full_id}: capture {result.state}")


def _refunded(session: Session, payment: Payment, resource: Mapping[str, Any]) -> WebhookResult:
    refund_id = str(resource.get("id"))
    status = str(resource.get("status"))
    remote = RemoteStatus(rules.refund_state(status), _money(resource, "amount", payment), f"PayPal: {status}")
    invoice_id = resource.get("invoice_id")
    if lookup.claims_refund(invoice_id if isinstance(invoice_id, str) else None):
        ours = lookup.marked_refund(session, str(invoice_id))
        if ours is None:
            raise WebhookNotReady(f"refund {invoice_id} is not there yet")
        move = apply_refund_status(session, ours.id, remote, actor=ACTOR, reference=refund_id)
        return WebhookResult.processed(payment.order_id, f"{ours.full_id}: {move or 'unchanged'}")
    known = refund_by_reference(session, IDENTIFIER, refund_id)
    if known is not None:
        move = apply_refund_status(session, known.id, remote, actor=ACTOR)
        return WebhookResult.processed(payment.order_id, f"{known.full_id}: {move or 'unchanged'}")
    if remote.state not in (RefundState.DONE, RefundState.TRANSIT) or remote.amount is None:
        return WebhookResult.ignored(f"{refund_id}: {status}, no money moved", payment.order_id)
    refund = record_external_refund(
        session,
        payment,
        amount=remote.amount,
        reference=refund_id,
        actor=ACTOR,
        comment=f"Refunded at PayPal ({refund_id}).",
        info={"kind": "refund", "paypal-refund": refund_id},
    )
    return WebhookResult.processed(payment.order_id, f"{refund.full_id if refund else refund_id}: external refund")


def _record_loss(
    session: Session, payment: Payment, *, kind: str, reference: str, amount: Decimal, comment: str
) -> str:
    """Record money PayPal took back (a reversal, a dispute) once, even when both report it."""
    if refund_by_reference(session, IDENTIFIER, reference) is not None or _linked(session, payment, kind, reference):
        return f"{reference}: already recorded"
    partner = _unpaired(session, payment, partner_kind=rules.PAIRED_KINDS[kind], link=kind, amount=amount)
    if partner is not None:
        partner.info = {**partner.info, kind: reference}
        audit.record(
            session, payment.order, ACTOR, Action.REFUND_EXTERNAL_LINKED, refund=partner.full_id, **{kind: reference},
            detail=f"PayPal reports the same money again as a {kind}; no second refund recorded.",
        )  # fmt: skip
        return f"{reference}: same as {partner.full_id}"
    refund = record_external_refund(
        session, payment, amount=amount, reference=reference, actor=ACTOR, comment=comment,
        info={"kind": kind, kind: reference},
    )  # fmt: skip
    return f"{reference}: {refund.full_id if refund else 'already recorded'}"


def _external_refunds(session: Session, payment: Payment) -> list[Refund]:
    return list(
        session.execute(
            select(Refund)
            .where(Refund.payment_id == payment.id, Refund.source == RefundSource.EXTERNAL)
            .order_by(Refund.id)
        ).scalars()
    )


def _linked(session: Session, payment: Payment, kind: str, reference: str) -> Refund | None:
    """The external refund that already stands for this reversal or dispute (as its partner)."""
    return next((r for r in _external_refunds(session, payment) if r.info.get(kind) == reference), None)


def _unpaired(session: Session, payment: Payment, *, partner_kind: str, link: str, amount: Decimal) -> Refund | None:
    """A standing external refund of ``partner_kind`` for ``amount`` not yet linked to a ``link``."""
    return next(
        (
            r
            for r in _external_refunds(session, payment)
            if r.info.get("kind") == partner_kind
            and r.amount == amount
            and r.state != RefundState.CANCELED
            and not r.info.get(link)
        ),
        None,
    )


def _reversed(session: Session, payment: Payment, resource: Mapping[str, Any]) -> WebhookResult:
    amount = _money(resource, "amount", payment)
    if amount is None:
        return WebhookResult.ignored("The reversal is not in the order's currency.", payment.order_id)
    reversal_id = str(resource.get("id"))
    detail = _record_loss(
        session, payment, kind="reversal", reference=reversal_id, amount=amount,
        comment=f"PayPal reversed the payment ({reversal_id}), e.g. for a chargeback.",
    )  # fmt: skip
    return WebhookResult.processed(payment.order_id, detail)


def _dispute_created(session: Session, payment: Payment, resource: Mapping[str, Any]) -> WebhookResult:
    amount = _money(resource, "dispute_amount", payment)
    if amount is None:
        return WebhookResult.ignored("The dispute is not in the order's currency.", payment.order_id)
    dispute_id = str(resource.get("dispute_id"))
    reason = str(resource.get("reason") or "unknown reason")
    detail = _record_loss(
        session, payment, kind="dispute", reference=dispute_id, amount=amount,
        comment=f"PayPal dispute {dispute_id} ({reason}): PayPal holds the money for the buyer.",
    )  # fmt: skip
    return WebhookResult.processed(payment.order_id, detail)


def _dispute_resolved(session: Session, payment: Payment, resource: Mapping[str, Any]) -> WebhookResult:
    dispute_id = str(resource.get("dispute_id"))
    outcome = resource.get("dispute_outcome")
    code = str(outcome.get("outcome_code")) if isinstance(outcome, Mapping) else None
    won = rules.dispute_won(code)
    refund = _linked(session, payment, "dispute", dispute_id)
    close_dispute(
        session, payment, refund, dispute=dispute_id, won=won, actor=ACTOR,
        detail=f"PayPal resolved dispute {dispute_id}: {code}.",
    )  # fmt: skip
    return WebhookResult.processed(payment.order_id, f"{dispute_id}: {'won' if won else code}")


_HANDLERS: dict[str, Handler] = {
    "PAYMENT.CAPTURE.COMPLETED": _capture_changed,
    "PAYMENT.CAPTURE.PENDING": _capture_changed,
    "PAYMENT.CAPTURE.DECLINED": _capture_changed,
    "PAYMENT.CAPTURE.DENIED": _capture_changed,
    "CHECKOUT.ORDER.APPROVED": _order_approved,
    "PAYMENT.CAPTURE.REFUNDED": _refunded,
    "PAYMENT.CAPTURE.REVERSED": _reversed,
    "CUSTOMER.DISPUTE.CREATED": _dispute_created,
    "CUSTOMER.DISPUTE.RESOLVED": _dispute_resolved,
}
# What the organizer subscribes the PayPal webhook to (docs/providers.md).
EVENT_TYPES = tuple(_HANDLERS)
