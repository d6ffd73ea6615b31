"""The buyer's pages. The order page is reached only through the order's secret link."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from boxoffice.catalogue.models import Event
from boxoffice.catalogue.service import event_by_slug
from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.orders import service as orders
from boxoffice.orders.models import Order
from boxoffice.payments.checkout import pay
from boxoffice.providers.base import CheckoutContext, PaymentProvider
from boxoffice.providers.registry import available_providers, enabled_providers, provider_for
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, field_errors, page, static_file, text
from boxoffice.web.orderview import buyer_order as _buyer_order
from boxoffice.web.orderview import fingerprint, order_path, order_view
from boxoffice.web.shop.checkout import (
    RETURN_URL_FIELD,
    amount_with,
    cart_total,
    offers,
    payment_fields,
    read_cart,
    wants_return_url,
)
from boxoffice.web.templating import render

router = APIRouter(include_in_schema=False)
PROVIDER_FIELD = "provider"


def _field(provider: str, name: str) -> str:
    """The input name of a provider's payment field (several providers' fields share one form)."""
    return f"pay-{provider}-{name}"


@router.get("/static/{name}")
def static(name: str) -> Response:
    try:
        return static_file(name)
    except NotFound:
        return Response("Not found", status_code=404, media_type="text/plain")


def _shop_page(
    request: Request, session: Session, event: Event, *, form: FormData | None = None,
    error: DomainError | None = None, status_code: int = 200,
) -> Response:
    shelf = offers(session, event)
    providers = enabled_providers(event, session)
    items = read_cart(form, shelf) if form is not None and error is None else []
    subtotal = cart_total(items, shelf) if items else None
    quotes = [(p, p.calculate_fee(subtotal) if subtotal is not None else None) for p in providers]
    context: dict[str, Any] = {
        "event": event, "offers": shelf, "quotes": quotes, "subtotal": subtotal,
        "values": dict(form) if form is not None else {}, "error": error, "errors": field_errors(error),
    }
    return render(request, "shop/event.html", context, status_code=status_code)


@router.get("/e/{organizer}/{event}/")
@page
def shop(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _shop_page(request, session, event_by_slug(session, organizer, event))


@router.post("/e/{organizer}/{event}/")
@page
def checkout(request: Request, organizer: str, event: str, form: Form) -> Response:
    """``action=review`` shows the totals with each provider's fee; otherwise the order is placed."""
    provider = text(form, PROVIDER_FIELD)
    try:
        with unit_of_work() as session:
            shop_event = event_by_slug(session, organizer, event)
            if text(form, "action") == "review":
                return _shop_page(request, session, shop_event, form=form)
            items = read_cart(form, offers(session, shop_event))
            email = text(form, "email")
            if "@" not in email:
                raise InvalidValue("Enter your e-mail address: the order link is sent there.", pointer="email")
            if cart_total(items, offers(session, shop_event)) > 0 and not provider:
                raise InvalidValue("Choose how you want to pay.", pointer=PROVIDER_FIELD)
            order = orders.place_order(
                session, shop_event.id, email=email, items=items, actor="buyer", payment_mode=provider or None
            )
            target, plugin = order_path(order), _offered(session, order, provider) if provider else None
            order_id, free = order.id, order.pending_sum <= 0
    except DomainError as exc:
        with unit_of_work() as session:
            shop_event = event_by_slug(session, organizer, event)
            return _shop_page(request, session, shop_event, form=form, error=exc, status_code=exc.status)
    if free or plugin is None:
        return redirect(target, "Thank you! Your order is confirmed.")
    if plugin.payment_form_schema:
        return redirect(f"{target}?provider={plugin.identifier}#pay", "Your order is placed. Please pay now.")
    # No buyer input needed (bank transfer, manual): start the payment now so its instructions show.
    try:
        outcome = pay(order_id, provider=plugin.identifier, actor="buyer")
    except DomainError as exc:
        return redirect(target, f"Your order is placed, but the payment could not start: {exc.detail}")
    return redirect(outcome.redirect_url or target, "Thank you! Your order is placed.")


def _offered(session: Session, order: Order, provider: str) -> PaymentProvider | None:
    """The chosen provider if it may be used for this order (enabled, within its limits); else 422,
    which rolls the order back: nothing is placed with a method the buyer cannot pay with."""
    if order.pending_sum <= 0:
        return None
    for plugin in available_providers(session, order, CheckoutContext(now=now())):
        if plugin.identifier == provider:
            return plugin
    raise InvalidValue("This payment method cannot be used for this order; choose another one.", pointer=PROVIDER_FIELD)


def _choices(session: Session, order: Order) -> list[dict[str, Any]]:
    """The providers the buyer may pay this order with now, each with its fee, amount and fields."""
    result = []
    for plugin in available_providers(session, order, CheckoutContext(now=now())):
        fee, amount = amount_with(plugin, order)
        result.append({"plugin": plugin, "fee": fee, "amount": amount, "fields": payment_fields(plugin)})
    return result


def _blocking(session: Session, order: Order) -> str | None:
    """Why the buyer cannot start another payment now (an open attempt that cannot be given up)."""
    for payment in order.payments:
        if payment.state in ("created", "pending"):
            plugin: PaymentProvider = provider_for(order.event, payment.provider, session)
            if not plugin.abort_pending_allowed:
                return f"Your payment {payment.full_id} by {plugin.public_name} is on its way."
    return None


def _order_page(
    request: Request, session: Session, order: Order, *, error: DomainError | None = None,
    chosen: str | None = None, status_code: int = 200,
) -> Response:
    view = order_view(session, order, organizer=False)
    payable = order.status == "pending" and order.pending_sum > 0
    blocked = _blocking(session, order) if payable else None
    choices = _choices(session, order) if payable and not blocked else []
    context = {
        "view": view, "order": order, "event": order.event, "choices": choices, "blocked": blocked,
        "chosen": chosen or request.query_params.get("provider") or order.payment_mode,
        "error": error, "errors": field_errors(error), "path": order_path(order), "field_name": _field,
        "fingerprint": fingerprint(order),
    }
    return render(request, "shop/order.html", context, status_code=status_code)


ORDER = "/e/{organizer}/{event}/order/{code}/{secret}/"


@router.get(ORDER)
@page
def order_page(request: Request, organizer: str, event: str, code: str, secret: str) -> Response:
    with unit_of_work() as session:
        return _order_page(request, session, _buyer_order(session, organizer, event, code, secret))


@router.post(ORDER + "pay")
@page
def order_pay(request: Request, organizer: str, event: str, code: str, secret: str, form: Form) -> Response:
    """Pay what is left with the chosen provider (a retry or a switch cancels an open attempt that allows it)."""
    provider = text(form, PROVIDER_FIELD)
    with unit_of_work() as session:
        order = _buyer_order(session, organizer, event, code, secret)
        order_id, target, actor = order.id, order_path(order), f"buyer:{order.code}"
        if not provider:
            return _order_page(
                request, session, order, status_code=422,
                error=InvalidValue("Choose how you want to pay.", pointer=PROVIDER_FIELD),
            )
        plugin = provider_for(order.event, provider, session, pointer=PROVIDER_FIELD)
        data = {f.name: text(form, _field(provider, f.name)) for f in payment_fields(plugin)}
        if wants_return_url(plugin):
            data[RETURN_URL_FIELD] = target
    try:
        outcome = pay(order_id, provider=provider, actor=actor, form_data=data)
    except DomainError as exc:
        with unit_of_work() as session:
            order = _buyer_order(session, organizer, event, code, secret)
            return _order_page(request, session, order, error=exc, chosen=provider, status_code=exc.status)
    if outcome.redirect_url:
        return redirect(outcome.redirect_url)
    message = "Thank you! Your payment is confirmed." if outcome.state == "confirmed" else outcome.message
    return redirect(target, message or "Your payment is being processed.")


@router.get(ORDER + "state")
def order_state(organizer: str, event: str, code: str, secret: str) -> Response:
    """A fingerprint of the order's state for the page's light polling; reads only, confirms nothing."""
    try:
        with unit_of_work() as session:
            state = fingerprint(_buyer_order(session, organizer, event, code, secret))
    except DomainError as exc:
        return JSONResponse({"error": exc.detail}, status_code=exc.status)
    return JSONResponse({"state": state}, headers={"Cache-Control": "no-store"})


@router.get(ORDER + "receipt")
@page
def receipt(request: Request, organizer: str, event: str, code: str, secret: str) -> Response:
    """A printable receipt of the order (HTML, saved with the browser or printed to PDF)."""
    with unit_of_work() as session:
        order = _buyer_order(session, organizer, event, code, secret)
        view = order_view(session, order, organizer=False)
        response = render(request, "shop/receipt.html", {"view": view, "order": order, "event": order.event})
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{order.code}.html"'
    return response
