"""ExamplePay: a complete, small boxoffice payment provider (the example of docs/providers.md).

Buyers pay from a prepaid ExamplePay wallet by giving its id (``W-`` and six digits). A wallet whose
id ends in 0 is empty, so its payments are declined. Payments settle at once; refunds go back to
the wallet, in full or in part. A real provider would call its API where the comments say so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from markupsafe import Markup

from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund
from boxoffice.providers.base import (
    PaymentFormError,
    PaymentProvider,
    PaymentResult,
    ProviderSettings,
    RefundResult,
)

WALLET = re.compile(r"^W-\d{6}$")


class ExamplePaySettings(ProviderSettings):
    """Per-event settings: the common ones (enabled, fees, limits…) plus the merchant account."""

    merchant_id: str = ""
    api_key: str | None = None

    # Accepted when the organizer saves, never shown back by the API.
    secret_fields: ClassVar[frozenset[str]] = frozenset({"api_key"})


class ExamplePayProvider(PaymentProvider):
    identifier = "examplepay"
    verbose_name = "ExamplePay wallet"
    settings_model = ExamplePaySettings

    @property
    def payment_form_schema(self) -> dict[str, Any]:
        # The token field is named after the provider, as the Open Event charge sends it.
        return {
            "type": "object",
            "required": [self.identifier],
            "properties": {self.identifier: {"type": "string", "title": "Wallet id", "pattern": WALLET.pattern}},
        }

    def checkout_prepare(self, order: Order, form_data: Mapping[str, Any]) -> dict[str, Any]:
        wallet = str(form_data.get(self.identifier) or "").strip().upper()
        if not WALLET.match(wallet):
            raise PaymentFormError("Enter your wallet id, e.g. W-123456.", field=self.identifier)
        return {"wallet": wallet}

    def execute_payment(self, payment: Payment) -> PaymentResult:
        wallet = payment.info["wallet"]
        # Here a real provider charges the wallet through its API, sending payment.full_id as the
        # reference and f"{payment.full_id}-{payment.attempts}" as the idempotency key.
        if wallet.endswith("0"):
            return PaymentResult.failed("Your ExamplePay wallet does not hold enough money.")
        # The provider reports; the core confirms the attempt and pays the order when covered.
        return PaymentResult.confirmed(reference=f"xp_{payment.full_id}")

    def payment_pending_render(self, payment: Payment) -> Markup:
        return Markup("<p>ExamplePay is confirming your payment.</p>")

    def api_payment_details(self, payment: Payment) -> dict[str, Any]:
        wallet = payment.info.get("wallet")
        return {"wallet": f"W-…{wallet[-2:]}" if wallet else None, "reference": payment.provider_reference}

    def payment_refund_supported(self, payment: Payment) -> bool:
        return payment.provider_reference is not None

    def payment_partial_refund_supported(self, payment: Payment) -> bool:
        return payment.provider_reference is not None

    def execute_refund(self, refund: Refund) -> RefundResult:
        # Here a real provider sends the money back through its API (idempotency key: refund.full_id).
        return RefundResult.done(reference=f"xp_{refund.full_id}")

    def shred_payment_info(self, obj: Payment | Refund) -> None:
        obj.info = {key: value for key, value in obj.info.items() if key != "wallet"}
