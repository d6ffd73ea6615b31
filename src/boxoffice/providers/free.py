"""The free provider: settles orders with nothing to pay. Implicit for every event, never listed."""

from __future__ import annotations

from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment
from boxoffice.providers.base import CheckoutContext, PaymentProvider, PaymentResult


class FreeProvider(PaymentProvider):
    """Confirms a zero-amount attempt at once; offered only when there is nothing to pay."""

    identifier = "free"
    verbose_name = "Free of charge"
    priority = 1000
    public = False

    def is_allowed(self, order: Order, context: CheckoutContext) -> bool:
        return order.total == 0 or order.pending_sum == 0

    def execute_payment(self, payment: Payment) -> PaymentResult:
        return PaymentResult.confirmed()
