"""PayPal Checkout: Orders v2, approved by the buyer on PayPal's site, captured by us.

Two ways to pay. Started here (``POST /v1/orders/{id}/payments`` with ``provider: paypal``): the
committed attempt creates a PayPal order (our mark as ``custom_id``, a ``PayPal-Request-Id`` built
from the attempt) and the buyer is sent to its approval page; they come back to
``/providers/paypal/return/{payment}``, where the order is captured. Or by token: the Open Event
charge with ``{"paypal": "<order id>"}`` captures an order the buyer approved elsewhere — after
checking with PayPal that the order is one of ours, for this order, with this amount and currency.

Only the capture's own status says whether money moved; a PENDING capture is settled later by the
``PAYMENT.CAPTURE.*`` webhooks (:mod:`boxoffice.providers.paypal.webhooks`) or the janitor.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.kit.clock import now
from boxoffice.kit.money import format_amount
from boxoffice.orders import audit
from boxoffice.orders.models import Order
from boxoffice.orders.repository import lock_order
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import lock_payment
from boxoffice.payments.rules import COUNTING_PAYMENT_STATES, OPEN_PAYMENT_STATES, PaymentState, RefundState
from boxoffice.providers import returns
from boxoffice.providers.base import (
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
from boxoffice.providers.paypal import rules, webhooks
from boxoffice.providers.paypal.client import (
    PayPalClient,
    PayPalConfigError,
    PayPalDeclined,
    PayPalError,
    PayPalNotFound,
    PayPalUnavailable,
)
from boxoffice.providers.paypal.lookup import CAPTURE_ID, SUPERSEDED_BY
from boxoffice.providers.paypal.settings import IDENTIFIER, PayPalSettings, check_settings, client_for, complete
from boxoffice.providers.reconcile import apply_payment_result, remember_payment_reference

if TYPE_CHECKING:
    from boxoffice.inbox.models import ProviderEvent

log = logging.getLogger(__name__)

POINTER = f"/data/attributes/{IDENTIFIER}"
# Where the buyer approves, and which PayPal order they approved (a token sent to the charge).
APPROVE_URL = "approve-url"
PAYPAL_ORDER = "paypal-order-id"
APPROVED_ORDER = "approved-order"
# An attempt never sent to PayPal this long after it was made will not be: nothing can move any more.
NEVER_SENT_AFTER = timedelta(minutes=30)
_UNAVAILABLE = "PayPal is not available at the moment. Please choose another payment method."


class PayPalProvider(PaymentProvider):
    """PayPal accounts (and the cards PayPal takes for them)."""

    identifier = IDENTIFIER
    verbose_name = "PayPal"
    priority = 55
    settings_model = PayPalSettings
    # Nothing moves before we capture, so an open attempt can always be given up.
    abort_pending_allowed = True

    @property
    def paypal_settings(self) -> PayPalSettings:
        assert isinstance(self.settings, PayPalSettings)
        return self.settings

    def client(self) -> PayPalClient:
        return client_for(self.paypal_settings)

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
        return complete(self.paypal_settings) and super().is_allowed(order, context)

    @property
    def payment_form_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                IDENTIFIER: {
                    "type": "string",
                    "description": "The id of a PayPal order the buyer approved (optional: without it the "
                    "buyer is sent to PayPal to approve a new one).",
                }
            },
        }

    def checkout_prepare(self, order: Order, form_data: Mapping[str, Any]) -> dict[str, Any]:
        token = form_data.get(IDENTIFIER)
        if token is None or token == "":
            return {}
        if not isinstance(token, str) or not token.replace("-", "").isalnum() or len(token) > 64:
            raise PaymentFormError("The paypal token must be the id of an approved PayPal order.", field=IDENTIFIER)
        return {APPROVED_ORDER: token}

    def execute_payment(self, payment: Payment) -> PaymentResult:
        approved = payment.info.get(APPROVED_ORDER)
        if approved:
            return self.capture(payment, approved)
        order = payment.order
        try:
            created = self.client().create_order(
                payment.amount,
                order.currency,
                rules.mark(payment.id, payment.full_id),
                rules.request_id("payment", payment.id, payment.full_id, "create"),
                returns.return_url(self.session, payment, "return"),
                returns.return_url(self.session, payment, "cancel"),
                description=f"{order.event.name}, order {order.code}",
                brand_name=order.event.name,
            )
        except PayPalError as error:
            raise _translated(error, payment) from error
        payment.info = {**payment.info, PAYPAL_ORDER: created.id, APPROVE_URL: created.approve_url}
        return PaymentResult.pending(reference=created.id, redirect_url=created.approve_url)

    def capture(self, payment: Payment, paypal_order_id: str) -> PaymentResult:
        """Capture PayPal order ``paypal_order_id`` for ``payment`` once PayPal confirms it is ours,
        and report the capture; moves no attempt (the caller applies the result).

        Raises :class:`PaymentError` without capturing when the PayPal order belongs to another
        order or has another amount, :class:`ProviderUnavailable` when PayPal's answer is unknown.
        """
        client = self.client()
        try:
            remote = client.get_order(paypal_order_id)
        except PayPalNotFound as error:
            raise PaymentError(
                "PayPal does not know this order.", pointer=POINTER, code="paypal-order-unknown"
            ) from error
        except PayPalError as error:
            raise _translated(error, payment) from error
        owner = self._check_ours(payment, paypal_order_id, remote.custom_id, remote.amount, remote.currency)
        if owner.id != payment.id:
            # News about the PayPal order now goes to ``payment``; the janitor ends ``owner`` if still open.
            owner.info = {**owner.info, SUPERSEDED_BY: payment.id}
        # Kept before capturing: should PayPal's answer be lost, the janitor asks about this order.
        remember_payment_reference(self.session, payment.id, paypal_order_id, **{PAYPAL_ORDER: paypal_order_id})
        try:
            result = client.capture_order(
                paypal_order_id, rules.request_id("payment", payment.id, payment.full_id, "capture")
            )
        except PayPalError as error:
            raise _translated(error, payment) from error
        if result.capture_id:
            payment.info = {**payment.info, CAPTURE_ID: result.capture_id}
        state = rules.capture_state(result.capture_status)
        if state == PaymentState.CONFIRMED:
            amount = result.amount if result.currency == payment.order.currency else None
            return PaymentResult.confirmed(reference=result.order_id, amount=amount)
        if state == PaymentState.FAILED:
            return PaymentResult.failed(result.failure_message or "PayPal declined the payment.")
        return PaymentResult.pending(reference=result.order_id)  # a PENDING capture: its webhook settles it

    def capture_and_apply(self, payment: Payment, paypal_order_id: str) -> PaymentResult | None:
        """Capture an approved PayPal order and apply the outcome — the buyer's return and PayPal's
        ``CHECKOUT.ORDER.APPROVED`` both come here. None when there is nothing to capture any more (a
        webhook, the return or another attempt was first). A refusal fails the attempt;
        :class:`ProviderUnavailable` (outcome unknown) is raised and leaves it as it is."""
        lock_order(self.session, payment.order_id)
        payment = lock_payment(self.session, payment.id)
        if not self._still_open(payment, paypal_order_id):
            return None
        try:
            result = self.capture(payment, paypal_order_id)
        except PaymentError as error:
            result = PaymentResult.failed(error.detail)
        apply_payment_result(self.session, payment.id, result, actor=self.actor)
        return result

    def _check_ours(
        self,
        payment: Payment,
        paypal_order_id: str,
        custom_id: str | None,
        amount: Decimal | None,
        currency: str | None,
    ) -> Payment:
        """The attempt a PayPal order was made for, if it is one of this order's with this amount."""
        claimed = rules.read_mark(custom_id)
        owner = self.session.get(Payment, claimed[0]) if claimed else None
        if (
            owner is None
            or claimed is None
            or owner.full_id != claimed[1]
            or owner.order_id != payment.order_id
            or owner.provider != IDENTIFIER
        ):
            raise PaymentError(
                "This PayPal payment was not made for this order.", pointer=POINTER, code="paypal-order-mismatch"
            )
        if currency != payment.order.currency or amount != payment.amount:
            raise PaymentError(
                f"This PayPal payment is for {amount} {currency}, "
                f"not {format_amount(payment.amount, payment.order.currency)} {payment.order.currency}.",
                pointer=POINTER,
                code="paypal-amount-mismatch",
            )
        used = self.session.execute(
            select(Payment.id).where(
                Payment.order_id == payment.order_id,
                Payment.provider == IDENTIFIER,
                Payment.provider_reference == paypal_order_id,
                Payment.state.in_(list(COUNTING_PAYMENT_STATES)),
                Payment.id != payment.id,
            )
        ).first()
        if used is not None:
            raise PaymentError("This PayPal payment has already been used.", pointer=POINTER, code="paypal-order-used")
        return owner

    def buyer_returned(self, payment: Payment, paypal_order_id: str) -> None:
        """The buyer approved at PayPal and is back: capture, unless a webhook or another attempt
        already did. An unknown outcome leaves the attempt pending for the webhook or the janitor."""
        try:
            self.capture_and_apply(payment, paypal_order_id)
        except ProviderUnavailable:
            log.warning("PayPal did not answer the capture of %s; the janitor will ask again", payment.full_id)

    def buyer_canceled(self, payment: Payment, paypal_order_id: str) -> None:
        """The buyer gave up on PayPal's page: the attempt is canceled (nothing was captured)."""
        lock_order(self.session, payment.order_id)
        payment = lock_payment(self.session, payment.id)
        if self._still_open(payment, paypal_order_id):
            payments.cancel_payment(self.session, payment.id, actor=audit.BUYER, message="canceled on PayPal's page")

    @staticmethod
    def _still_open(payment: Payment, paypal_order_id: str) -> bool:
        return (
            payment.state in OPEN_PAYMENT_STATES
            and bool(paypal_order_id)
            and paypal_order_id == payment.provider_reference
            and not payment.info.get(CAPTURE_ID)
            and not payment.info.get(SUPERSEDED_BY)
        )

    def cancel_payment(self, payment: Payment) -> None:
        if payment.info.get(CAPTURE_ID):
            raise PaymentError("PayPal has already captured this payment.")

    # -- rendering --------------------------------------------------------------------------------
    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        details: dict[str, Any] = {
            PAYPAL_ORDER: payment.info.get(PAYPAL_ORDER) or payment.provider_reference,
            CAPTURE_ID: payment.info.get(CAPTURE_ID),
        }
        if payment.state in OPEN_PAYMENT_STATES and payment.info.get(APPROVE_URL):
            details[APPROVE_URL] = payment.info[APPROVE_URL]
        return details

    def payment_pending_render(self, payment: Payment) -> Markup:
        url = payment.info.get(APPROVE_URL)
        if url and not payment.info.get(CAPTURE_ID):
            return Markup('<p><a href="{}">Continue to PayPal</a> to approve this payment.</p>').format(url)
        return Markup("<p>{}</p>").format("PayPal is processing your payment.")

    def matching_id(self, payment: Payment) -> str | None:
        # PayPal's activity lists captures by their transaction id.
        return payment.info.get(CAPTURE_ID) or payment.provider_reference

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        kept = {k: v for k, v in obj.info.items() if k in (PAYPAL_ORDER, CAPTURE_ID, SUPERSEDED_BY)}
        obj.info = {**kept, "_shredded": True}

    # -- refunds ----------------------------------------------------------------------------------
    def payment_refund_supported(self, payment: Payment) -> bool:
        return bool(payment.info.get(CAPTURE_ID))

    def payment_partial_refund_supported(self, payment: Payment) -> bool:
        return bool(payment.info.get(CAPTURE_ID))

    def execute_refund(self, refund: Refund) -> RefundResult:
        payment = refund.payment
        capture_id = payment.info.get(CAPTURE_ID) if payment is not None else None
        if not capture_id:
            return RefundResult.failed("This payment has no PayPal capture to refund.")
        try:
            result = self.client().refund_capture(
                capture_id,
                refund.amount,
                refund.order.currency,
                rules.request_id("refund", refund.id, refund.full_id, "refund"),
                invoice_id=rules.mark(refund.id, refund.full_id),
            )
        except PayPalUnavailable as error:
            raise ProviderUnavailable(f"PayPal did not answer for {refund.full_id}: {error.message}") from error
        except PayPalConfigError:
            return RefundResult.failed("PayPal refused the credentials; check the PayPal settings.")
        except PayPalError as error:
            return RefundResult.failed(error.message)
        state = rules.refund_state(result.status)
        if state in (RefundState.FAILED, RefundState.CANCELED):
            return RefundResult.failed(result.failure_message or "PayPal refused the refund.", reference=result.refund_id)
        if state == RefundState.DONE:
            return RefundResult.done(reference=result.refund_id)
        return RefundResult.transit(reference=result.refund_id)  # PENDING at PayPal: its webhook says when it is back

    # -- background -------------------------------------------------------------------------------
    def fetch_payment_status(self, payment: Payment) -> RemoteStatus:
        """Read the PayPal order (and its capture); an attempt never sent to PayPal moved nothing."""
        paypal_order_id = payment.provider_reference or payment.info.get(APPROVED_ORDER)
        if payment.info.get(SUPERSEDED_BY):
            return RemoteStatus(PaymentState.CANCELED, message="Another attempt took this PayPal order over.")
        if not paypal_order_id:
            if now() - payment.created_at < NEVER_SENT_AFTER:
                return RemoteStatus("unknown", message="Not sent to PayPal yet.")
            return RemoteStatus(PaymentState.CANCELED, message="The buyer was never sent to PayPal.")
        try:
            remote = self.client().get_order(paypal_order_id)
        except PayPalError as error:
            return RemoteStatus("unknown", message=error.message)
        state = rules.order_state(remote.status, remote.capture_status)
        if remote.capture_id:
            remember_payment_reference(self.session, payment.id, paypal_order_id, **{CAPTURE_ID: remote.capture_id})
        return RemoteStatus(state, remote.amount if remote.currency == payment.order.currency else None)

    def fetch_refund_status(self, refund: Refund) -> RemoteStatus:
        """Read the refund; without its id (the call timed out) it stays unknown — processing the
        refund again sends the same ``PayPal-Request-Id``, which PayPal answers without refunding twice."""
        if not refund.provider_reference:
            return RemoteStatus("unknown", message="PayPal's answer to this refund never arrived.")
        try:
            result = self.client().get_refund(refund.provider_reference)
        except PayPalError as error:
            return RemoteStatus("unknown", message=error.message)
        return RemoteStatus(rules.refund_state(result.status), result.amount, result.failure_message)

    # -- callbacks --------------------------------------------------------------------------------
    @classmethod
    def verify_webhook(cls, session: Session, headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
        return webhooks.verify(session, headers, body)

    @classmethod
    def process_webhook_event(cls, session: Session, event: ProviderEvent) -> WebhookResult:
        return webhooks.process(session, event)


def _translated(error: PayPalError, payment: Payment) -> Exception:
    """PayPal's refusal for the buyer, or the outcome left unknown (the attempt stays pending)."""
    if isinstance(error, PayPalUnavailable):
        return ProviderUnavailable(f"PayPal did not answer for {payment.full_id}: {error.message}")
    if isinstance(error, PayPalConfigError):
        log.error("PayPal refused the credentials of event %s: %s", payment.order.event_id, error.message)
        return PaymentError(_UNAVAILABLE, code="provider-misconfigured")
    if isinstance(error, PayPalDeclined):
        return PaymentError(error.message)
    return PaymentError(f"PayPal refused the payment: {error.message}")
