"""The sandbox processor's confirmation page (``/sandbox/confirm/{token}``), where a buyer whose card
"requires action" approves or declines the payment, as a card issuer's 3-D Secure page would."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.kit.money import format_amount, from_minor_units
from boxoffice.payments.models import Payment
from boxoffice.providers.sandbox import processor
from boxoffice.providers.sandbox.models import SandboxIntent
from boxoffice.providers.sandbox.provider import RETURN_URL_FIELD

router = APIRouter(prefix="/sandbox", tags=["sandbox"], include_in_schema=False)
_templates = Environment(
    loader=PackageLoader("boxoffice.providers.sandbox", "templates"), autoescape=select_autoescape(["html"])
)


def _page(intent: SandboxIntent | None, return_url: str | None, status_code: int = 200) -> HTMLResponse:
    context: dict[str, Any] = {"intent": intent, "return_url": return_url}
    if intent is not None:
        currency = intent.currency.upper()
        context.update(currency=currency, amount=format_amount(from_minor_units(intent.amount, currency), currency))
    html = _templates.get_template("confirm.html").render(context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _return_url(session: Any, intent: SandboxIntent) -> str | None:
    payment = session.execute(
        select(Payment).where(Payment.provider == processor.PROVIDER, Payment.provider_reference == intent.intent_id)
    ).scalar_one_or_none()
    return payment.info.get(RETURN_URL_FIELD) if payment is not None else None


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirmation_page(token: str) -> Response:
    with unit_of_work() as session:
        intent = processor.intent_by_token(session, token)
        return _page(intent, None, status_code=200 if intent else 404)


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm(token: str, decision: Annotated[str, Form()]) -> Response:
    with unit_of_work() as session:
        if processor.intent_by_token(session, token) is None:
            return _page(None, None, status_code=404)
        # The processor's callback (approved → payment confirmed) runs in this transaction.
        intent = processor.authenticate(session, token, approve=decision == "approve")
        return_url = _return_url(session, intent)
    if return_url:
        return RedirectResponse(return_url, status_code=303)
    return _page(intent, None)
