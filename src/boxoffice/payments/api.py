"""Payments under ``/v1``: reading them, the buyer's attempts and the Open Event charge, and the
team's payment actions.

Money moves write-ahead: the attempt is committed in one unit of work before its provider is asked
to move money in the next (:mod:`boxoffice.payments.checkout`), so whatever the provider does lands
on a row that exists. A provider's refusal is committed as a failed attempt, then answered 422 with
the provider's message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Reader, Tx, Writer
from boxoffice.api.fields import ResourceId, money, no_client_id
from boxoffice.api.listing import collection_document, page_of
from boxoffice.errors import Conflict, InvalidValue, PaymentDeclined, PermissionDenied
from boxoffice.kit.http import ACTION_ERRORS, READ_ERRORS, JSONAPIResponse, domain_error_response
from boxoffice.kit.jsonapi import document
from boxoffice.kit.query import Query, QuerySpec
from boxoffice.kit.writeahead import write_ahead
from boxoffice.orders.models import Order
from boxoffice.orders.rules import OrderStatus
from boxoffice.payments import checkout, rules
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment
from boxoffice.payments.rules import PaymentState
from boxoffice.payments.schemas import (
    ChargeDocument,
    ChargeRequest,
    PaymentCancelRequest,
    PaymentConfirmRequest,
    PaymentCreateAttributes,
    PaymentCreateRequest,
    PaymentDocument,
    PaymentListDocument,
    check_form,
    check_recording_provider,
    provider_form,
)
from boxoffice.payments.serializers import PAYMENT_FIELDS, PaymentDetails, charge_resource, payment_resource
from boxoffice.providers.base import PaymentError, PaymentProvider
from boxoffice.providers.registry import provider_for

router = APIRouter(tags=["payments"], default_response_class=JSONAPIResponse)

AMOUNT_POINTER = "/data/attributes/amount"

PAYMENTS = QuerySpec("payments", fields={"payments": PAYMENT_FIELDS}, sort={"created-at"}, default_sort="created-at")
PAYMENT = QuerySpec("payments", fields={"payments": PAYMENT_FIELDS})


def payment_response(tx: Tx, payment: Payment, *, status_code: int = 200, **meta: object) -> JSONAPIResponse:
    resource = payment_resource(payment, PaymentDetails(tx.session)(payment))
    response = JSONAPIResponse(document(resource, meta=meta or None), status_code=status_code)
    if status_code == 201:
        response.headers["Location"] = f"/v1/payments/{payment.id}"
    return response


# -- reading ---------------------------------------------------------------------------------------


@router.get("/v1/orders/{order_id}/payments", response_model=PaymentListDocument, responses=READ_ERRORS)
def list_payments(
    request: Request, order_id: ResourceId, call: Reader, query: Annotated[Query, Depends(PAYMENTS)]
) -> Response:
    with call.unit() as tx:
        order = access.order(tx, order_id, buyer=True)
        statement = select(Payment).where(Payment.order_id == order.id)
        page = page_of(tx.session, statement, query, {"created-at": Payment.created_at}, Payment.id)
        details, fields = PaymentDetails(tx.session), query.fields_for("payments")
        data = [payment_resource(p, details(p), fields) for p in page.items]
        return JSONAPIResponse(collection_document(request, page, data))


@router.get("/v1/payments/{payment_id}", response_model=PaymentDocument, responses=READ_ERRORS)
def get_payment(payment_id: ResourceId, call: Reader, query: Annotated[Query, Depends(PAYMENT)]) -> Response:
    with call.unit() as tx:
        found = access.payment(tx, payment_id, buyer=True)
        resource = payment_resource(found, PaymentDetails(tx.session)(found), query.fields_for("payments"))
        return JSONAPIResponse(document(resource))


# -- new payments ----------------------------------------------------------------------------------


@router.post(
    "/v1/orders/{order_id}/payments",
    status_code=201,
    response_model=PaymentDocument,
    responses=ACTION_ERRORS,
    summary="A new payment attempt, or a payment the team records",
    description="Starts a new attempt, with the order's payment mode or another enabled provider "
    "(switching cancels an open attempt where the provider allows); the provider's fields are attributes "
    "named as it names them (the sandbox card number as `sandbox`). `details.redirect-url` is where the "
    "buyer must go next, if anywhere. A declined attempt is recorded as failed and answered 422. The "
    "organizer's team may start one for part of what is left (`amount`).\n\n"
    "The team records money taken outside boxoffice by saying so: `state` (`confirmed`, `pending` or "
    "`created`), `provider` (default manual) and `amount` — required with `confirmed`, otherwise "
    "default what is left. Without `state` nothing is recorded as paid: an attempt starts, as the buyer's.",
)
def create_payment(
    order_id: ResourceId, call: Writer, payload: Annotated[PaymentCreateRequest | None, Body()] = None
) -> Response:
    if payload is not None:
        no_client_id(payload.data.id)
    attrs = payload.data.attributes if payload is not None else PaymentCreateAttributes()
    form = provider_form(attrs, exclude={"provider", "amount", "state"})
    recorded: list[Response] = []

    def write(tx: Tx) -> list[int]:
        order = access.order(tx, order_id, buyer=True)
        team = tx.principal.role_in(order.event.organizer_id) is not None
        if team and attrs.state is not None:
            # Money taken outside boxoffice: recorded and answered at once, no provider to ask.
            recorded.append(tx.respond(_record_payment(tx, order, attrs, form)))
            return []
        for name in ("amount", "state"):
            if name in attrs.model_fields_set and not team:
                raise PermissionDenied(
                    f"Only the organizer's team records a payment's {name}.", pointer=f"/data/attributes/{name}"
                )
        provider = attrs.provider or order.payment_mode
        if provider is None:
            raise InvalidValue("Name the payment provider.", pointer="/data/attributes/provider", code="missing")
        check_form(provider_for(order.event, provider, tx.session, pointer="/data/attributes/provider"), form)
        amount = _amount(attrs, order)
        return [
            checkout.begin_payment(
                tx.session, order.id, provider=provider, actor=tx.actor, amount=amount, form_data=form
            ).id
        ]

    def send(tx: Tx, payment_id: int) -> Response:
        outcome = checkout.execute_payment(tx.session, payment_id, actor=tx.actor)
        try:
            outcome.raise_if_declined()
        except PaymentDeclined as exc:
            return tx.respond(domain_error_response(exc))
        payment = tx.session.get(Payment, payment_id)
        assert payment is not None
        return tx.respond(payment_response(tx, payment, status_code=201))

    sent = write_ahead(call.unit, write, send)
    return sent[0] if sent else recorded[0]


def _amount(attrs: PaymentCreateAttributes, order: Order) -> Decimal | None:
    """The document's ``amount``, exact in the order's currency; None when it names none."""
    if attrs.amount is None:
        return None
    return money(attrs.amount, order.currency, pointer=AMOUNT_POINTER, allow_zero=False)


def _record_payment(tx: Tx, order: Order, attrs: PaymentCreateAttributes, form: dict[str, Any]) -> Response:
    """The team records money taken outside boxoffice: no buyer checks, no provider asked to move money.
    Money recorded as arrived is only ever the amount the team states."""
    provider = attrs.provider or "manual"
    check_recording_provider(provider)
    check_form(provider_for(order.event, provider, tx.session, pointer="/data/attributes/provider"), form)
    amount = _amount(attrs, order)
    if amount is None and attrs.state == PaymentState.CONFIRMED:
        raise InvalidValue(
            "Say how much money arrived: a confirmed payment is recorded with its amount.",
            pointer=AMOUNT_POINTER,
            code="missing",
        )
    payment = checkout.begin_payment(
        tx.session, order.id, provider=provider, actor=tx.actor, amount=amount, form_data=form, allow_settled=True
    )
    if attrs.state == PaymentState.PENDING:
        payments.set_payment_pending(tx.session, payment.id, actor=tx.actor)
    elif attrs.state == PaymentState.CONFIRMED:
        payments.confirm_payment(tx.session, payment.id, actor=tx.actor)
    return payment_response(tx, payment, status_code=201)


# -- the Open Event charge -------------------------------------------------------------------------


def _check_chargeable(order: Order) -> None:
    if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
        raise Conflict(f"Order {order.code} is {order.status} and cannot be charged.", code=f"order-{order.status}")
    if order.total == 0:
        raise Conflict(f"Order {order.code} is free: there is nothing to charge.", code="order-free")
    if order.status == OrderStatus.PAID or order.pending_sum <= 0:
        raise Conflict(f"Order {order.code} is already paid.", code="order-paid")


def _charging_provider(tx: Tx, order: Order, form: dict[str, object]) -> PaymentProvider:
    """The order's payment mode, which must take a token, and the token must be there."""
    if order.payment_mode is None:
        raise Conflict(f"Order {order.code} has no payment mode to charge with.", code="charge-not-supported")
    plugin = provider_for(order.event, order.payment_mode, tx.session)
    identifier = plugin.identifier
    if identifier not in ((plugin.payment_form_schema or {}).get("properties") or {}):
        raise Conflict(
            f"{plugin.public_name} takes no token, so order {order.code} cannot be charged; pay it another way.",
            code="charge-not-supported",
        )
    token = form.get(identifier)
    if not isinstance(token, str) or not token.strip():
        raise InvalidValue(
            f"{identifier} token is missing", pointer=f"/data/attributes/{identifier}", code="token-missing"
        )
    check_form(plugin, form)
    return plugin


def _charge_message(payment: Payment, outcome: checkout.PaymentOutcome) -> str:
    order = payment.order
    if payment.state == PaymentState.CONFIRMED:
        if order.status == OrderStatus.PAID:
            return "Charge successful."
        return f"The payment was taken; order {order.code} still has {order.pending_sum} {order.currency} to pay."
    if outcome.redirect_url:
        return "The card holder must confirm the payment at redirect-url."
    if payment.state == PaymentState.CANCELED:
        return f"This attempt was canceled ({outcome.message or 'by another attempt'}); nothing was charged."
    return outcome.message or "The payment is being processed; the order is paid once it is confirmed."


@router.post(
    "/v1/orders/{order_id}/charge",
    response_model=ChargeDocument,
    responses=ACTION_ERRORS,
    summary="Charge an order with a provider token (Open Event)",
    description="The attribute named after the order's payment mode carries the token (`sandbox`: a test card "
    "number; `stripe`: a PaymentMethod id; `paypal`: the approved PayPal order id). Each charge is its own "
    "payment attempt; the order is paid once covered. 200 with `status` true when the money was taken "
    "(false while it waits, e.g. for the card holder at `redirect-url`); 422 with the provider's message "
    "when declined (the failed attempt is recorded); 409 for a canceled, expired, free or paid order. "
    "Only the order's buyer and its organizer's team may charge it.",
)
def charge(order_id: ResourceId, payload: ChargeRequest, call: Writer) -> Response:
    form = provider_form(payload.data.attributes)

    def write(tx: Tx) -> list[int]:
        # Locked here, once: begin_payment finds the order (event, fees) as read for the checks.
        order = access.order(tx, order_id, buyer=True, lock=True)
        _check_chargeable(order)
        plugin = _charging_provider(tx, order, form)
        return [
            checkout.begin_payment(tx.session, order.id, provider=plugin.identifier, actor=tx.actor, form_data=form).id
        ]

    def send(tx: Tx, payment_id: int) -> Response:
        outcome = checkout.execute_payment(tx.session, payment_id, actor=tx.actor, order_id=order_id)
        try:
            outcome.raise_if_declined()
        except PaymentDeclined as exc:
            return tx.respond(domain_error_response(exc))
        payment = outcome.payment or tx.session.get(Payment, payment_id)
        assert payment is not None
        resource = charge_resource(
            payment,
            status=payment.state == PaymentState.CONFIRMED,
            message=_charge_message(payment, outcome),
            redirect_url=outcome.redirect_url,
        )
        return tx.respond(JSONAPIResponse(document(resource)))

    [response] = write_ahead(call.unit, write, send)
    return response


# -- payment actions -------------------------------------------------------------------------------


@router.post(
    "/v1/payments/{payment_id}/confirm",
    response_model=PaymentDocument,
    responses=ACTION_ERRORS,
    summary="Confirm that a payment's money arrived (team)",
    description="The order is paid once nothing is left to pay. `meta.outcome` tells what the order did "
    "(order-paid, partial, late-accepted, quota-exceeded, overpayment, already-confirmed).",
)
def confirm_payment(
    payment_id: ResourceId, call: Writer, payload: Annotated[PaymentConfirmRequest | None, Body()] = None
) -> Response:
    amount_text = payload.data.attributes.amount if payload else None
    with call.unit() as tx:
        payment = access.payment(tx, payment_id)
        amount = (
            money(amount_text, payment.order.currency, pointer=AMOUNT_POINTER, allow_zero=False)
            if amount_text is not None
            else None
        )
        result = payments.confirm_payment(tx.session, payment.id, actor=tx.actor, amount=amount)
        return tx.respond(payment_response(tx, result.payment, outcome=result.outcome.value))


@router.post(
    "/v1/payments/{payment_id}/cancel",
    response_model=PaymentDocument,
    responses=ACTION_ERRORS,
    summary="Give up an open payment attempt (team)",
    description="The provider is told first; an attempt whose money already moved cannot be canceled (409).",
)
def cancel_payment(
    payment_id: ResourceId, call: Writer, payload: Annotated[PaymentCancelRequest | None, Body()] = None
) -> Response:
    message = payload.data.attributes.message if payload else None
    with call.unit() as tx:
        payment = access.payment(tx, payment_id)
        if payment.state in rules.OPEN_PAYMENT_STATES:
            try:
                provider_for(payment.order.event, payment.provider, tx.session).cancel_payment(payment)
            except PaymentError as exc:
                raise Conflict(
                    f"Payment {payment.full_id} cannot be canceled any more: {exc.detail}",
                    code="payment-not-cancelable",
                ) from exc
        payment = payments.cancel_payment(tx.session, payment.id, actor=tx.actor, message=message)
        return tx.respond(payment_response(tx, payment))
