"""The order page's Stripe card form: where its script gets a PaymentIntent to confirm with Stripe.js.

``POST <order page>stripe-intent`` (the order page's CSRF token in the form) writes a new Stripe
attempt and commits it, creates its PaymentIntent (see :mod:`boxoffice.providers.stripe.provider`)
and answers with what Stripe.js needs: the intent's client secret, and the signed return URL the
page opens once Stripe.js is done, where boxoffice asks Stripe how the intent stands. The browser
is never believed about the outcome; it only says when to ask.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError
from boxoffice.payments.checkout import pay
from boxoffice.payments.models import Payment
from boxoffice.providers import returns
from boxoffice.providers.base import ProviderUnavailable
from boxoffice.providers.registry import provider_for
from boxoffice.providers.stripe.provider import CARD_ELEMENT, FLOW_FIELD, StripeProvider
from boxoffice.providers.stripe.settings import IDENTIFIER
from boxoffice.web import csrf
from boxoffice.web.http import Form
from boxoffice.web.orderview import buyer_order

router = APIRouter(include_in_schema=False)
INTENT_PATH = "/e/{organizer}/{event}/order/{code}/{secret}/stripe-intent"
_NO_STORE = {"Cache-Control": "no-store"}


def _error(detail: str, status: int) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=status, headers=_NO_STORE)


@router.post(INTENT_PATH)
def stripe_intent(request: Request, organizer: str, event: str, code: str, secret: str, form: Form) -> Response:
    """A new attempt for what is left to pay, and its intent's client secret for Stripe.js."""
    try:
        csrf.prepare(request)
        csrf.check_csrf(request, form.get(csrf.CSRF_FIELD))
        with unit_of_work() as session:
            order = buyer_order(session, organizer, event, code, secret)
            order_id, actor = order.id, f"buyer:{order.code}"
        outcome = pay(order_id, provider=IDENTIFIER, actor=actor, form_data={FLOW_FIELD: CARD_ELEMENT})
        with unit_of_work() as session:
            payment = session.get(Payment, outcome.payment_id)
            assert payment is not None
            plugin = provider_for(payment.order.event, IDENTIFIER, session)
            assert isinstance(plugin, StripeProvider)
            client_secret = plugin.client_secret(payment)
            return_url = returns.return_url(session, payment)
            full_id = payment.full_id
    except ProviderUnavailable:
        return _error("Stripe cannot be reached right now. Please try again in a moment.", 503)
    except DomainError as exc:
        return _error(exc.detail, exc.status)
    if client_secret is None:
        # Created and already settled or failed (it should wait for the card): the order page tells.
        return _error("This card payment cannot be continued; reload the page to see where it stands.", 409)
    return JSONResponse(
        {"payment": full_id, "client-secret": client_secret, "return-url": return_url}, headers=_NO_STORE
    )

