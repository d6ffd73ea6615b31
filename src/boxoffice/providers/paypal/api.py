"""Where PayPal sends the buyer back: ``GET /providers/paypal/return/{payment}`` after approving (the
order is captured here, unless a webhook was first) and ``…/cancel/{payment}`` after giving up.
Both then send the buyer on to their order page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.payments.models import Payment
from boxoffice.providers import returns
from boxoffice.providers.paypal.provider import PayPalProvider
from boxoffice.providers.paypal.settings import IDENTIFIER
from boxoffice.providers.registry import provider_for

router = APIRouter(prefix=f"/providers/{IDENTIFIER}", tags=["providers"], include_in_schema=False)


def _back(purpose: str, payment_id: int, sig: str, act: Callable[[PayPalProvider, Payment], None]) -> Response:
    with unit_of_work() as session:
        payment = returns.signed_payment(session, IDENTIFIER, purpose, payment_id, sig)
        if payment is None:
            return HTMLResponse("<p>This link is not valid.</p>", status_code=404)
        provider = provider_for(payment.order.event, IDENTIFIER, session)
        assert isinstance(provider, PayPalProvider)
        act(provider, payment)
        target = returns.order_page_url(payment.order)
    return RedirectResponse(target, status_code=303)


@router.get("/return/{payment_id}")
def paypal_return(payment_id: int, sig: str = "", token: str = "") -> Response:
    return _back("return", payment_id, sig, lambda provider, payment: provider.buyer_returned(payment, token))


@router.get("/cancel/{payment_id}")
def paypal_cancel(payment_id: int, sig: str = "", token: str = "") -> Response:
    return _back("cancel", payment_id, sig, lambda provider, payment: provider.buyer_canceled(payment, token))
