"""Card payments through Stripe PaymentIntents.

Three ways in, one attempt each, always written and committed before Stripe is asked:

* the shop's card form (``stripe-flow: card-element``): ``execute_payment`` creates a PaymentIntent
  that moves no money yet; the order page hands its client secret to Stripe.js, which confirms it
  with the card typed into the card Element (3-D Secure in Stripe's own dialog), and the buyer
  comes back through ``/providers/stripe/return/{payment}``, where we ask Stripe how it stands;
* Stripe Checkout (``stripe-flow: checkout``; the shop's way when the organizer turns on
  ``hosted-checkout``): ``execute_payment`` opens a Checkout Session and sends the buyer to Stripe's
  page, which returns them to the same return URL; the session's intent settles the attempt;
* a token — a PaymentMethod (``pm_…``) or a confirmation token (``ctoken_…``) made by Stripe.js, or
  sent to the Open Event charge as ``{"stripe": "pm_…"}``: ``execute_payment`` creates and confirms
  the intent at once; a card that needs 3-D Secure sends the buyer to their bank and back to the
  same return URL.

Every intent carries our ids as metadata and an Idempotency-Key built from the attempt
(:func:`~boxoffice.providers.stripe.rules.idempotency_key`). The truth comes from Stripe, never
from the browser: webhooks (:mod:`boxoffice.providers.stripe.webhooks`) and the return apply the
intent's state through one idempotent path, and report what happens later: late confirmations,
refunds made in the Stripe dashboard, disputes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from boxoffice.errors import InvalidValue
from boxoffice.kit.clock import now
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.rules import PaymentState, RefundState
from boxoffice.providers import returns
from boxoffice.providers.base import (
    REDIRECT_URL,
    CheckoutContext,
    IncomingEvent,
    PaymentError,
    PaymentFormError,
    PaymentProvider,
    PaymentResult,
    ProviderUnavailable,
    RefundResult,
    RemoteStatus,
    WebhookResult,
)
from boxoffice.providers.reconcile import apply_payment_status, remember_payment_reference
from boxoffice.providers.stripe import rules, webhooks
from boxoffice.providers.stripe.gateway import (
    GatewayConfigError,
    GatewayRequestError,
    GatewayUnavailable,
    IntentResult,
    StripeGateway,
    StripeGatewayError,
    supported_amount,
)
from boxoffice.providers.stripe.settings import IDENTIFIER, StripeSettings, check_settings, complete, gateway_for

if TYPE_CHECKING:
    from boxoffice.inbox.models import ProviderEvent

log = logging.getLogger(__name__)

# Stripe's search finds a new intent within a minute or so; before this age "not found" proves nothing.
SEARCH_LAG = timedelta(minutes=15)
# A card form's intent still without a card this long after the buyer pressed "Pay": they left.
ABANDONED_AFTER = timedelta(hours=1)
_TOKEN_PREFIXES = ("pm_", "ctoken_")
_OPEN = (PaymentState.CREATED, PaymentState.PENDING)
# The checkout field (and value) of the shop's card form: Stripe.js confirms the intent on the page.
FLOW_FIELD = "stripe-flow"
CARD_ELEMENT = "card-element"
# ... and of Stripe Checkout, the hosted payment page.
CHECKOUT = "checkout"
_FLOWS = (CARD_ELEMENT, CHECKOUT)
CHECKOUT_SESSION = "checkout-session"


class StripeProvider(PaymentProvider):
    """Credit and debit cards through Stripe."""

    identifier = IDENTIFIER
    verbose_name = "Credit card (Stripe)"
    priority = 60
    settings_model = StripeSettings
    # An intent waiting for 3-D Secure can be canceled at Stripe (see cancel_payment).
    abort_pending_allowed = True

    @property
    def stripe_settings(self) -> StripeSettings:
        assert isinstance(self.settings, StripeSettings)
        return self.settings

    def gateway(self) -> StripeGateway:
        return gateway_for(self.stripe_settings)

    # -- settings ---------------------------------------------------------------------------------
    @classmethod
    def validate_settings(
        cls,
        raw: Mapping[str, Any],
        *,
        current: Mapping[str, Any] | None = None,
        currency: str | None = None,
        pointer: str = "/data/attributes/payment-providers",
    ) -> dict[str, Any]:
        return check_settings(raw, current=current, currency=currency, pointer=pointer)

    # -- checkout ---------------------------------------------------------------------------------
    def is_allowed(self, order: Order, context: CheckoutContext) -> bool:
        return complete(self.stripe_settings) and super().is_allowed(order, context)

    @property
    def payment_form_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                IDENTIFIER: {
                    "type": "string",
                    "description": "A Stripe PaymentMethod id (pm_…) or confirmation token (ctoken_…) from Stripe.js.",
                },
                FLOW_FIELD: {
                    "type": "string",
                    "enum": list(_FLOWS),
                    "description": "Instead of a token: 'checkout' sends the buyer to Stripe Checkout "
                    "(details.redirect-url); 'card-element' is the shop's card form with Stripe.js.",
                },
            },
            "anyOf": [{"required": [IDENTIFIER]}, {"required": [FLOW_FIELD]}],
        }

    def checkout_prepare(self, order: Order, form_data: Mapping[str, Any]) -> dict[str, Any]:
        token, flow = form_data.get(IDENTIFIER), form_data.get(FLOW_FIELD)
        if not token and flow in _FLOWS:
            return {"flow": flow}
        if not token and flow:
            raise PaymentFormError(f"{FLOW_FIELD} is one of {', '.join(_FLOWS)}.", field=FLOW_FIELD)
        if not token:
            raise PaymentFormError("The stripe token is missing.", field=IDENTIFIER)
        if not isinstance(token, str) or not token.startswith(_TOKEN_PREFIXES) or len(token) > 255:
            raise PaymentFormError(
                "The stripe token must be a PaymentMethod id (pm_…) or a confirmation token (ctoken_…).",
                field=IDENTIFIER,
            )
        return {"payment-method": token}

    def payment_prepare(self, payment: Payment, form_data: Mapping[str, Any]) -> None:
        # Refused before anything is committed: Stripe would refuse it anyway, after the attempt.
        currency = payment.order.currency
        if not supported_amount(payment.amount, currency):
            raise InvalidValue(
                f"Stripe takes {currency} amounts only in steps of 0.010, so {payment.amount} {currency} "
                "cannot be paid by card. Please choose another payment method.",
                pointer="/data/attributes/provider",
                code="amount-not-supported",
            )

    def execute_payment(self, payment: Payment) -> PaymentResult:
        token, flow = payment.info.get("payment-method"), payment.info.get("flow")
        if not token and flow not in _FLOWS:
            return PaymentResult.failed("No card was given for this payment.")
        order = payment.order
        metadata = rules.payment_metadata(payment.id, payment.full_id)
        key = rules.idempotency_key("payment", payment.id, payment.full_id)
        description = f"{order.event.name}, order {order.code}"
        try:
            if flow == CHECKOUT:
                return self._open_checkout(payment, metadata, key, description)
            if flow == CARD_ELEMENT:
                result = self.gateway().create_intent(payment.amount, order.currency, metadata, key, description)
            else:
                result = self.gateway().charge(
                    payment.amount, order.currency, str(token), metadata, key,
                    return_url=returns.return_url(self.session, payment), description=description,
                )  # fmt: skip
        except GatewayUnavailable as error:
            raise ProviderUnavailable(f"Stripe did not answer for {payment.full_id}: {error.message}") from error
        except GatewayConfigError as error:
            log.error("Stripe refused the API key of event %s: %s", order.event_id, error.message)
            return PaymentResult.failed(
                "Card payments are not available at the moment. Please choose another payment method."
            )
        return self._intent_result(payment, result)

    def _intent_result(self, payment: Payment, result: IntentResult) -> PaymentResult:
        """What an intent's answer means for the attempt (its charge id is kept for the organizer)."""
        if result.charge_id and payment.info.get("charge") != result.charge_id:
            payment.info = {**payment.info, "charge": result.charge_id}
        state = rules.intent_state(result.status)
        if state == PaymentState.CONFIRMED:
            amount = _amount_in(result.amount, result.currency, payment.order.currency)
            return PaymentResult.confirmed(reference=result.intent_id, amount=amount)
        if state == PaymentState.FAILED:
            return PaymentResult.failed(result.failure_message or "Your card was declined.", reference=result.intent_id)
        if state == PaymentState.CANCELED:
            return PaymentResult.failed("The card payment was canceled.", reference=result.intent_id)
        # On its way, or waiting for the buyer's card or their bank (3-D Secure); a callback settles it.
        redirect = result.redirect_url if result.status == "requires_action" else None
        return PaymentResult.pending(reference=result.intent_id, redirect_url=redirect)

    def _open_checkout(self, payment: Payment, metadata: dict[str, str], key: str, description: str) -> PaymentResult:
        """Open a Checkout Session for the attempt: pending, with Stripe's page for the buyer to pay on."""
        order = payment.order
        try:
            session = self.gateway().create_checkout(
                payment.amount, order.currency, metadata, key, name=description,
                success_url=returns.return_url(self.session, payment), cancel_url=returns.order_page_url(order),
                email=order.email,
            )  # fmt: skip
        except GatewayRequestError as error:
            return PaymentResult.failed(f"Stripe could not open its payment page: {error.message}")
        payment.info = {**payment.info, CHECKOUT_SESSION: session.session_id}
        if not session.url:
            raise ProviderUnavailable(f"Stripe gave no page for {payment.full_id}'s Checkout Session.")
        return PaymentResult.pending(redirect_url=session.url)

    def client_secret(self, payment: Payment) -> str | None:
        """The secret Stripe.js confirms the attempt's intent with, while it waits for the buyer's card.

        Asked from Stripe each time rather than stored: it lets anyone holding it pay the intent.
        """
        if payment.state not in _OPEN or not payment.provider_reference:
            return None
        try:
            result = self.gateway().retrieve(payment.provider_reference)
        except StripeGatewayError as error:
            raise ProviderUnavailable(f"Stripe did not answer for {payment.full_id}: {error.message}") from error
        return result.client_secret if result.status in ("awaiting_card", "requires_action") else None

    def settle(self, payment: Payment) -> None:
        """Ask Stripe how the attempt stands and apply it (the buyer is back from 3-D Secure)."""
        status = self.fetch_payment_status(payment)
        apply_payment_status(self.session, payment.id, status, actor=self.actor)

    def cancel_payment(self, payment: Payment) -> None:
        if payment.state not in _OPEN:
            return
        session_id = payment.info.get(CHECKOUT_SESSION)
        if session_id and not payment.provider_reference:
            self._expire_checkout(payment, str(session_id))
            return
        if not payment.provider_reference:
            return
        try:
            result = self.gateway().cancel(payment.provider_reference)
        except GatewayRequestError as error:
            raise PaymentError(f"This card payment can no longer be canceled: {error.message}") from error
        except StripeGatewayError as error:
            raise PaymentError("Stripe cannot be reached to cancel this card payment; please try again.") from error
        if result.status != "canceled":
            raise PaymentError("This card payment can no longer be canceled.")

    def _expire_checkout(self, payment: Payment, session_id: str) -> None:
        """Close the attempt's Checkout Session; refuse when the buyer already paid on it."""
        try:
            session = self.gateway().expire_checkout(session_id)
        except GatewayRequestError:
            session = self.gateway().retrieve_checkout(session_id)  # already complete or expired
        except StripeGatewayError as error:
            raise PaymentError("Stripe cannot be reached to cancel this card payment; please try again.") from error
        if session.status == "complete":
            raise PaymentError("This card payment was already made on Stripe's page.")

    # -- rendering --------------------------------------------------------------------------------
    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        # The core adds ``redirect-url`` (3-D Secure) while the attempt waits for the buyer.
        details = {"payment-intent": payment.provider_reference, "charge": payment.info.get("charge")}
        if payment.info.get(CHECKOUT_SESSION):
            details["checkout-session"] = payment.info[CHECKOUT_SESSION]
        return details

    def payment_pending_render(self, payment: Payment) -> Markup:
        flow = payment.info.get("flow")
        if flow == CHECKOUT and payment.info.get(REDIRECT_URL):
            return Markup('<p>Pay on Stripe\'s page: <a href="{}">continue to Stripe</a>. If you already did, '
                          "this page updates by itself.</p>").format(payment.info[REDIRECT_URL])
        if flow in _FLOWS:
            return Markup("<p>{}</p>").format("Processing: waiting for Stripe to confirm your card payment.")
        url = payment.info.get(REDIRECT_URL)
        if url:
            return Markup('<p>Your bank asks you to confirm this payment. <a href="{}">Confirm it now</a>.</p>').format(
                url
            )
        return Markup("<p>{}</p>").format("Your card payment is being processed.")

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        # The charge id is no personal data and is what the organizer finds the payment by at Stripe.
        kept = {k: v for k, v in obj.info.items() if k == "charge"}
        obj.info = {**kept, "_shredded": True}

    # -- refunds ----------------------------------------------------------------------------------
    def payment_refund_supported(self, payment: Payment) -> bool:
        return bool(payment.provider_reference)

    def payment_partial_refund_supported(self, payment: Payment) -> bool:
        return bool(payment.provider_reference)

    def execute_refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        if payment is None or not payment.provider_reference:
            return RefundResult.failed("This payment has no Stripe PaymentIntent to refund.")
        if not supported_amount(refund.amount, refund.order.currency):
            return RefundResult.failed(
                f"Stripe refunds {refund.order.currency} only in steps of 0.010; "
                f"{refund.amount} {refund.order.currency} must be given back another way."
            )
        try:
            result = self.gateway().refund(
                payment.provider_reference,
                refund.amount,
                refund.order.currency,
                rules.refund_metadata(refund.id, refund.full_id),
                rules.idempotency_key("refund", refund.id, refund.full_id),
            )
        except GatewayUnavailable as error:
            raise ProviderUnavailable(f"Stripe did not answer for {refund.full_id}: {error.message}") from error
        except GatewayConfigError:
            return RefundResult.failed("Stripe refused the API key; check the Stripe settings.")
        state = rules.refund_state(result.status)
        if result.refund_id is None or state in (RefundState.FAILED, RefundState.CANCELED):
            return RefundResult.failed(result.failure_message or "Stripe refused the refund.", reference=result.refund_id)
        if state == RefundState.DONE:
            return RefundResult.done(reference=result.refund_id)
        return RefundResult.transit(reference=result.refund_id)  # pending at Stripe: its webhook says when it is back

    # -- background -------------------------------------------------------------------------------
    def fetch_payment_status(self, payment: Payment) -> RemoteStatus:
        """Retrieve the intent; without one (the create call timed out), search it by our metadata."""
        try:
            session_id = payment.info.get(CHECKOUT_SESSION)
            if session_id and not payment.provider_reference:
                session = self.gateway().retrieve_checkout(str(session_id))
                if session.payment_intent_id is None:
                    if session.status == "expired":
                        return RemoteStatus(PaymentState.CANCELED, message="Stripe's payment page expired unpaid.")
                    return RemoteStatus(PaymentState.PENDING, message="The buyer has not paid on Stripe's page yet.")
                remember_payment_reference(self.session, payment.id, session.payment_intent_id)
            if payment.provider_reference:
                result = self.gateway().retrieve(payment.provider_reference)
            else:
                found = [
                    r
                    for r in self.gateway().find_intents(rules.PAYMENT_KEY, str(payment.id))
                    if rules.claimed_row(r.metadata, rules.PAYMENT_KEY) == (payment.id, payment.full_id)
                ]
                if not found:
                    if now() - payment.created_at < SEARCH_LAG:
                        return RemoteStatus("unknown", message="Stripe has not indexed this attempt yet.")
                    return RemoteStatus(PaymentState.FAILED, message="Stripe never received this payment.")
                result = _best(found)
                if result.intent_id:
                    remember_payment_reference(self.session, payment.id, result.intent_id, charge=result.charge_id)
            if (
                result.status == "awaiting_card"
                and payment.info.get("flow") == CARD_ELEMENT
                and now() - payment.created_at >= ABANDONED_AFTER
            ):
                # Cancel at Stripe first, so the page the buyer left can no longer pay it.
                result = self.gateway().cancel(payment.provider_reference or str(result.intent_id))
                if result.status == "canceled":
                    return RemoteStatus(PaymentState.CANCELED, message="No card was entered; the payment was given up.")
        except StripeGatewayError as error:
            return RemoteStatus("unknown", message=error.message)
        amount = _amount_in(result.amount, result.currency, payment.order.currency)
        return RemoteStatus(rules.intent_state(result.status), amount, result.failure_message)

    def fetch_refund_status(self, refund: Refund) -> RemoteStatus:
        """Retrieve the refund; without its id (the call timed out), look among the intent's refunds."""
        try:
            if refund.provider_reference:
                result = self.gateway().retrieve_refund(refund.provider_reference)
            else:
                payment = refund.payment
                if payment is None or not payment.provider_reference:
                    return RemoteStatus("unknown", message="The payment has no Stripe PaymentIntent.")
                mine = [
                    r
                    for r in self.gateway().refunds_of(payment.provider_reference)
                    if rules.claimed_row(r.metadata, rules.REFUND_KEY) == (refund.id, refund.full_id)
                ]
                if not mine:
                    return RemoteStatus(RefundState.FAILED, message="Stripe never received this refund.")
                result = mine[0]
                if result.refund_id:
                    refund.provider_reference = result.refund_id
        except StripeGatewayError as error:
            return RemoteStatus("unknown", message=error.message)
        return RemoteStatus(rules.refund_state(result.status), result.amount, result.failure_message)

    # -- callbacks --------------------------------------------------------------------------------
    @classmethod
    def verify_webhook(cls, session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
        return webhooks.verify(session, headers, body)

    @classmethod
    def process_webhook_event(cls, session: Session, event: ProviderEvent) -> WebhookResult:
        return webhooks.process(session, event)


def _amount_in(amount: Decimal | None, currency: str | None, expected: str) -> Decimal | None:
    """Stripe's amount when it is in the order's currency; None (keep ours) otherwise."""
    return amount if amount is not None and currency == expected.upper() else None


def _best(found: list[IntentResult]) -> IntentResult:
    """Of several intents for one attempt (should not happen), the one that took the money, if any."""
    return next((r for r in found if r.status == "succeeded"), found[0])
