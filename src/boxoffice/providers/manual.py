"""The manual provider: cash, payment on site, anything the organizer confirms by hand.

Money moves outside boxoffice both ways, so the attempt waits (pending) until the organizer confirms
it, and refunds are tracked, not executed: a refund stays ``created`` until the organizer marks it
done — never silently done.
"""

from __future__ import annotations

from markupsafe import Markup
from pydantic import Field

from boxoffice.payments.models import Payment
from boxoffice.providers.base import PaymentProvider, PaymentResult, ProviderSettings


class ManualSettings(ProviderSettings):
    # What the buyer is told to do, e.g. "Pay in cash at the entrance."
    instructions: str = Field(default="", max_length=2000)


class ManualProvider(PaymentProvider):
    identifier = "manual"
    verbose_name = "Manual payment"
    priority = 10
    settings_model = ManualSettings
    # Nothing has moved at a provider: the buyer may pay another way instead.
    abort_pending_allowed = True

    def execute_payment(self, payment: Payment) -> PaymentResult:
        return PaymentResult.pending()

    def payment_pending_render(self, payment: Payment) -> Markup:
        settings = self.settings
        assert isinstance(settings, ManualSettings)
        text = settings.instructions or "The organizer will confirm your payment once it has been received."
        return Markup("<p>{}</p>").format(text)
