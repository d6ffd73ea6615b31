"""The sandbox payment provider: test cards charged through the sandbox processor.

Checkout reads the card (only brand and last four digits are kept), ``payment_prepare`` creates an
intent at the processor, ``execute_payment`` confirms it: success and decline are answered at once
(as the provider's result, which the core applies; asynchronous outcomes come through the inbox),
"requires action" sends the buyer to the processor's confirmation page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from sqlalchemy.orm import Session

from boxoffice.config import get_settings
from boxoffice.inbox.models import ProviderEvent
from boxoffice.kit.money import from_minor_units, to_minor_units
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import PaymentState, RefundState
from boxoffice.providers.base import (
    REDIRECT_URL,
    CheckoutContext,
    IncomingEvent,
    PaymentError,
    PaymentFormError,
    PaymentProvider,
    PaymentResult,
    RefundResult,
    RemoteStatus,
    WebhookResult,
)
from boxoffice.providers.sandbox import callbacks, processor
from boxoffice.providers.sandbox.cards import (
    DECLINE_MESSAGE,
    DECLINED,
    REQUIRES_ACTION,
    SUCCEEDS,
    Card,
    CardNumberInvalid,
    read_card,
)
from boxoffice.providers.sandbox.models import SandboxIntent

RETURN_URL_FIELD = "return-url"
# The processor's intent statuses as our payment states (the janitor asks with fetch_payment_status).
_INTENT_STATES = {
    "requires_confirmation": PaymentState.PENDING,
    "requires_action": PaymentState.PENDING,
    "succeeded": PaymentState.CONFIRMED,
    "failed": PaymentState.FAILED,
    "canceled": PaymentState.CANCELED,
}


def confirmation_url(token: str) -> str:
    """Where the buyer approves or declines an intent that requires action."""
    return f"{get_settings().public_url}/sandbox/confirm/{token}"


class SandboxProvider(PaymentProvider):
    identifier = "sandbox"
    verbose_name = "Sandbox test card"
    priority = 50
    # An intent waiting for the buyer's confirmation can be canceled at the processor.
    abort_pending_allowed = True

    @property
    def payment_form_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "required": [self.identifier],
            "properties": {
                self.identifier: {
                    "type": "string",
                    "title": "Card number",
                    "description": (
                        f"{SUCCEEDS} succeeds, {DECLINED} is declined, {REQUIRES_ACTION} asks for confirmation."
                    ),
                },
                RETURN_URL_FIELD: {"type": "string", "title": "Where the confirmation page sends the buyer back"},
            },
        }

    def _card(self, form_data: Mapping[str, Any]) -> Card:
        number = form_data.get(self.identifier)
        if not isinstance(number, str) or not number.strip():
            raise PaymentFormError("Enter the card number.", field=self.identifier)
        try:
            return read_card(number)
        except CardNumberInvalid as exc:
            raise PaymentFormError(str(exc), field=self.identifier) from None

    def is_allowed(self, order: Order, context: CheckoutContext) -> bool:
        """Offered only for test-mode orders: the sandbox moves no real money."""
        return order.test_mode and super().is_allowed(order, context)

    def checkout_prepare(self, order: Order, form_data: Mapping[str, Any]) -> dict[str, Any]:
        if not order.test_mode:
            raise PaymentFormError("The sandbox takes payments only for test-mode orders.", field=self.identifier)
        card = self._card(form_data)
        info: dict[str, Any] = {"card": {"brand": card.brand, "last4": card.last4}}
        return_url = form_data.get(RETURN_URL_FIELD)
        if return_url:
            info[RETURN_URL_FIELD] = _own_url(return_url)
        return info

    def payment_prepare(self, payment: Payment, form_data: Mapping[str, Any]) -> None:
        # The intent's id comes back with the result of execute_payment: the attempt is written once
        # here and once with its outcome, and the intent is found by its key meanwhile.
        processor.create_intent(
            self.session,
            amount=to_minor_units(payment.amount, self.event.currency),
            currency=self.event.currency,
            card=self._card(form_data),
            metadata={"event": str(self.event.id), "payment": payment.full_id},
            idempotency_key=self._payment_key(payment),
        )

    def execute_payment(self, payment: Payment) -> PaymentResult:
        try:
            intent = processor.confirm_intent(self.session, self._payment_key(payment))
        except processor.ProcessorError:
            return PaymentResult.failed("This payment was not prepared; please start again.")
        reference = intent.intent_id
        if intent.status == "succeeded":
            amount = from_minor_units(intent.amount, self.event.currency)
            return PaymentResult.confirmed(reference=reference, amount=amount)
        if intent.status == "requires_action" and intent.confirmation_token:
            return PaymentResult.pending(reference=reference, redirect_url=confirmation_url(intent.confirmation_token))
        if intent.status in ("failed", "canceled"):
            return PaymentResult.failed(intent.last_error or DECLINE_MESSAGE, reference=reference)
        return PaymentResult.pending(reference=reference)

    def _intent_of(self, payment: Payment) -> SandboxIntent | None:
        if payment.provider_reference is not None:
            return processor.find_intent(self.session, payment.provider_reference)
        return processor.intent_for_key(self.session, self._payment_key(payment))

    def _payment_key(self, payment: Payment) -> str:
        return f"{self.event.id}:{payment.full_id}"

    def cancel_payment(self, payment: Payment) -> None:
        intent = self._intent_of(payment)
        if intent is None:
            return
        try:
            processor.cancel_intent(self.session, intent.intent_id)
        except processor.ProcessorError as exc:
            raise PaymentError(exc.message) from exc

    def payment_pending_render(self, payment: Payment) -> Markup:
        url = payment.info.get(REDIRECT_URL)
        if url:
            return Markup('<p>Please <a href="{}">confirm the payment with your card issuer</a>.</p>').format(url)
        return super().payment_pending_render(payment)

    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        card = payment.info.get("card") or {}
        details: dict[str, Any] = {"intent-id": payment.provider_reference}
        if card:
            details.update({"card-brand": card.get("brand"), "card-last4": card.get("last4")})
        if payment.state == PaymentState.PENDING and payment.info.get(REDIRECT_URL):
            details["confirm-url"] = payment.info[REDIRECT_URL]
        return details

    def payment_refund_supported(self, payment: Payment) -> bool:
        return payment.provider_reference is not None

    def payment_partial_refund_supported(self, payment: Payment) -> bool:
        return payment.provider_reference is not None

    def execute_refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        if payment is None or payment.provider_reference is None:
            return RefundResult.failed("This refund has no sandbox payment to give money back from.")
        try:
            item = processor.refund(
                self.session,
                payment.provider_reference,
                amount=to_minor_units(refund.amount, self.event.currency),
                metadata={"event": str(self.event.id), "refund": refund.full_id},
                idempotency_key=self._refund_key(refund),
            )
        except processor.ProcessorError as exc:
            return RefundResult.failed(exc.message)
        # The processor always gives the money back at once (its callback may have said so already).
        return RefundResult.done(reference=item.refund_id)

    def fetch_payment_status(self, payment: Payment) -> RemoteStatus:
        intent = self._intent_of(payment)
        if intent is None:
            return RemoteStatus("unknown", message="The processor has no intent for this payment.")
        state = _INTENT_STATES.get(intent.status, "unknown")
        amount = from_minor_units(intent.amount, self.event.currency) if state == PaymentState.CONFIRMED else None
        return RemoteStatus(state, amount, intent.last_error)

    def fetch_refund_status(self, refund: Refund) -> RemoteStatus:
        found = processor.find_refund(self.session, self._refund_key(refund))
        if found is None:
            return RemoteStatus(RefundState.FAILED, message="The processor never received this refund.")
        return RemoteStatus(RefundState.DONE, from_minor_units(found.amount, self.event.currency))

    def _refund_key(self, refund: Refund) -> str:
        return f"{self.event.id}:{refund.full_id}"

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        obj.info = {k: v for k, v in obj.info.items() if k not in ("card", RETURN_URL_FIELD)} | {"_shredded": True}

    @classmethod
    def verify_webhook(cls, session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
        return callbacks.verify(session, headers, body)

    @classmethod
    def process_webhook_event(cls, session: Session, event: ProviderEvent) -> WebhookResult:
        return callbacks.process(session, event.event_type, event.payload)


def _own_url(url: Any) -> str:
    """A return URL on this site only (a path, or our own public URL): no open redirect."""
    text = str(url)
    public = urlsplit(get_settings().public_url)
    parts = urlsplit(text)
    if (not parts.scheme and not parts.netloc and text.startswith("/") and not text.startswith("//")) or (
        parts.scheme == public.scheme and parts.netloc == public.netloc
    ):
        return text
    raise PaymentFormError("The return URL must be on this site.", field=RETURN_URL_FIELD)
