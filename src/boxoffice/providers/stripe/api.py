"""Where Stripe sends the buyer back after 3-D Secure: ``GET /providers/stripe/return/{payment}``.

The shop's card form comes here too once Stripe.js has confirmed (or failed to confirm) the intent.
The page only asks Stripe how the PaymentIntent stands and applies that through the same path as
the webhook (confirming twice is a no-op), then sends the buyer on to their order page — to its
card form, with Stripe's message by it, when the card was declined.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.payments.rules import PaymentState
from boxoffice.providers import returns
from boxoffice.providers.registry import provider_for
from boxoffice.providers.stripe.provider import StripeProvider
from boxoffice.providers.stripe.settings import IDENTIFIER

router = APIRouter(prefix=f"/providers/{IDENTIFIER}", tags=["providers"], include_in_schema=False)


@router.get("/return/{payment_id}")
def stripe_return(payment_id: int, sig: str = "") -> Response:
    with unit_of_work() as session:
        payment = returns.signed_payment(session, IDENTIFIER, "return", payment_id, sig)
        if payment is None:
            return HTMLResponse("<p>This link is not valid.</p>", status_code=404)
        provider = provider_for(payment.order.event, IDENTIFIER, session)
        assert isinstance(provider, StripeProvider)
        provider.settle(payment)
        target = returns.order_page_url(payment.order)
        if payment.state == PaymentState.FAILED:
            target += f"?provider={IDENTIFIER}#pay"
    return RedirectResponse(target, status_code=303)
