"""Refunds under ``/v1``: reading them, giving money back, and the organizer's decisions on them.

Giving money back is write-ahead like paying: the refunds are committed in one unit of work, then
each is handed to its provider in a unit of its own (a refusal is committed as a failed refund and
answered 422; it does not undo another refund's success). Money that already went back outside
boxoffice is recorded with ``mark-refunded`` and never reaches a provider.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Reader, Tx, Writer
from boxoffice.api.fields import ResourceId, money, no_client_id, related_id
from boxoffice.api.listing import collection_document, page_of
from boxoffice.errors import Conflict, InvalidValue, NotFound
from boxoffice.kit.clock import now
from boxoffice.kit.http import ACTION_ERRORS, READ_ERRORS, JSONAPIResponse, domain_error_response
from boxoffice.kit.jsonapi import document
from boxoffice.kit.query import Query, QuerySpec
from boxoffice.kit.writeahead import write_ahead
from boxoffice.orders import service as orders
from boxoffice.payments import refunding, rules
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund
from boxoffice.payments.repository import refunds_of_payment
from boxoffice.payments.rules import RefundState
from boxoffice.payments.schemas import (
    OrderRefundRequest,
    PaymentRefundRequest,
    RefundCancelRequest,
    RefundDocument,
    RefundDoneRequest,
    RefundListDocument,
    RefundProcessRequest,
)
from boxoffice.payments.serializers import REFUND_FIELDS, refund_resource

router = APIRouter(tags=["refunds"], default_response_class=JSONAPIResponse)

AMOUNT_POINTER = "/data/attributes/amount"

REFUNDS = QuerySpec("refunds", fields={"refunds": REFUND_FIELDS}, sort={"created-at"}, default_sort="created-at")
REFUND = QuerySpec("refunds", fields={"refunds": REFUND_FIELDS})


def refunds_response(refunds: list[Refund], *, single: bool, status_code: int = 200) -> Response:
    """The refunds as the answer: 422 with the provider's message when one was refused (it is
    committed as failed by then), else the refund (``single``) or the list."""
    try:
        refunding.raise_if_failed(refunds)
    except refunding.RefundDeclined as exc:
        return domain_error_response(exc)
    data = [refund_resource(r) for r in refunds]
    response = JSONAPIResponse(document(data[0] if single else data), status_code=status_code)
    if single and status_code == 201:
        response.headers["Location"] = f"/v1/refunds/{refunds[0].id}"
    return response


# -- reading ---------------------------------------------------------------------------------------


@router.get("/v1/orders/{order_id}/refunds", response_model=RefundListDocument, responses=READ_ERRORS)
def list_refunds(
    request: Request, order_id: ResourceId, call: Reader, query: Annotated[Query, Depends(REFUNDS)]
) -> Response:
    with call.unit() as tx:
        order = access.order(tx, order_id, buyer=True)
        statement = select(Refund).where(Refund.order_id == order.id)
        page = page_of(tx.session, statement, query, {"created-at": Refund.created_at}, Refund.id)
        fields = query.fields_for("refunds")
        return JSONAPIResponse(collection_document(request, page, [refund_resource(r, fields) for r in page.items]))


@router.get("/v1/refunds/{refund_id}", response_model=RefundDocument, responses=READ_ERRORS)
def get_refund(refund_id: ResourceId, call: Reader, query: Annotated[Query, Depends(REFUND)]) -> Response:
    with call.unit() as tx:
        found = access.refund(tx, refund_id, buyer=True)
        return JSONAPIResponse(document(refund_resource(found, query.fields_for("refunds"))))


# -- giving money back ----------------------------------------------------------------------------


@router.post(
    "/v1/payments/{payment_id}/refund",
    status_code=201,
    response_model=RefundDocument,
    responses=ACTION_ERRORS,
    summary="Refund (part of) a confirmed payment (admins)",
    description="Without `amount`, all the payment has left. With `mark-refunded` the money already went back "
    "outside boxoffice: the refund is recorded as done and no provider is called. Otherwise a provider that "
    "refunds by itself is asked to (a refusal is recorded and answered 422); other refunds stay `created` "
    "until the organizer marks them done.",
)
def refund_payment(
    payment_id: ResourceId, call: Writer, payload: Annotated[PaymentRefundRequest | None, Body()] = None
) -> Response:
    if payload is not None:
        no_client_id(payload.data.id)
    attrs = payload.data.attributes if payload else None
    mark_refunded = attrs.mark_refunded if attrs else False
    answered: list[Response] = []

    def write(tx: Tx) -> list[int]:
        payment = access.payment(tx, payment_id, admin=True)
        if attrs is not None and attrs.amount is not None:
            amount = money(attrs.amount, payment.order.currency, pointer=AMOUNT_POINTER, allow_zero=False)
        else:
            amount = rules.refundable_amount(payment.amount, refunds_of_payment(tx.session, payment.id))
            if amount <= 0:
                raise Conflict(f"Payment {payment.full_id} has nothing left to refund.", code="nothing-to-refund")
        refund = refunding.refund_payment(
            tx.session,
            payment.id,
            amount=amount,
            actor=tx.actor,
            mark_refunded=mark_refunded,
            comment=attrs.comment if attrs else None,
            execute=False,
        )
        if mark_refunded:  # the money already went back: nothing to send
            answered.append(tx.respond(refunds_response([refund], single=True, status_code=201)))
            return []
        return [refund.id]

    def send(tx: Tx, refund_id: int) -> Response:
        refund = refunding.execute_refund(tx.session, refund_id, actor=tx.actor)
        return tx.respond(refunds_response([refund], single=True, status_code=201))

    sent = write_ahead(call.unit, write, send)
    return sent[0] if sent else answered[0]


# -- the organizer's decisions ---------------------------------------------------------------------


@router.post(
    "/v1/orders/{order_id}/refunds",
    status_code=201,
    response_model=RefundListDocument,
    responses=ACTION_ERRORS,
    summary="Give back an amount of an order (admins)",
    description="With a `payment` relationship, that payment is refunded; otherwise boxoffice chooses the "
    "payments (an exact match first, then whole payments, then partial refunds) — which can take several "
    "refunds, so the answer is the list of refunds written. `mark-refunded` as for a payment's refund.",
)
def create_refunds(order_id: ResourceId, payload: OrderRefundRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    attrs = data.attributes
    answered: list[Response] = []

    def write(tx: Tx) -> list[int]:
        order = access.order(tx, order_id, admin=True)
        amount = money(attrs.amount, order.currency, pointer=AMOUNT_POINTER, allow_zero=False)
        linkage = data.relationships.payment
        if linkage is not None:
            pointer = "/data/relationships/payment/data/id"
            payment = tx.session.get(Payment, related_id(linkage.data.id, "Payment", pointer))
            if payment is None or payment.order_id != order.id:
                raise NotFound(f"Payment {linkage.data.id} is not a payment of this order.", pointer=pointer)
            written = [
                refunding.refund_payment(
                    tx.session,
                    payment.id,
                    amount=amount,
                    actor=tx.actor,
                    mark_refunded=attrs.mark_refunded,
                    comment=attrs.comment,
                    execute=False,
                )
            ]
        else:
            written = refunding.refund_order(
                tx.session,
                order.id,
                amount=amount,
                actor=tx.actor,
                mark_refunded=attrs.mark_refunded,
                comment=attrs.comment,
                execute=False,
            )
        if attrs.mark_refunded:
            answered.append(tx.respond(refunds_response(written, single=False, status_code=201)))
            return []
        return [r.id for r in written]

    done = write_ahead(
        call.unit, write, lambda tx, refund_id: refunding.execute_refund(tx.session, refund_id, actor=tx.actor).id
    )
    if answered:
        return answered[0]
    with call.unit() as tx:
        refunds = list(tx.session.execute(select(Refund).where(Refund.id.in_(done)).order_by(Refund.id)).scalars())
        return tx.respond(refunds_response(refunds, single=False, status_code=201))


@router.post(
    "/v1/refunds/{refund_id}/done",
    response_model=RefundDocument,
    responses=ACTION_ERRORS,
    summary="The refund's money is back with the buyer (admins)",
)
def refund_done(
    refund_id: ResourceId, call: Writer, payload: Annotated[RefundDoneRequest | None, Body()] = None
) -> Response:
    execution_date = payload.data.attributes.execution_date if payload else None
    with call.unit() as tx:
        refund = access.refund(tx, refund_id, admin=True)
        refund = payments.mark_refund_done(tx.session, refund.id, actor=tx.actor, execution_date=execution_date)
        return tx.respond(refunds_response([refund], single=True))


@router.post(
    "/v1/refunds/{refund_id}/cancel",
    response_model=RefundDocument,
    responses=ACTION_ERRORS,
    summary="Give up a refund that has not been carried out (admins)",
)
def refund_cancel(
    refund_id: ResourceId, call: Writer, payload: Annotated[RefundCancelRequest | None, Body()] = None
) -> Response:
    message = payload.data.attributes.message if payload else None
    with call.unit() as tx:
        refund = access.refund(tx, refund_id, admin=True)
        refund = payments.cancel_refund(tx.session, refund.id, actor=tx.actor, message=message)
        return tx.respond(refunds_response([refund], single=True))


@router.post(
    "/v1/refunds/{refund_id}/process",
    response_model=RefundDocument,
    responses=ACTION_ERRORS,
    summary="Decide on an external refund, or retry a created one (admins)",
    description="An `external` refund (money that went back outside boxoffice) is accepted: `then` = `cancel` "
    "cancels the order, `then` = `pending` returns a paid order to pending with a new deadline "
    "(`expires-at`, default the event's rule) so the buyer can pay again. A `created` refund of a provider "
    "that refunds by itself is handed to it again (409 when the provider cannot; a refusal is 422).",
)
def refund_process(
    refund_id: ResourceId, call: Writer, payload: Annotated[RefundProcessRequest | None, Body()] = None
) -> Response:
    then = payload.data.attributes.then if payload else None
    expires_at = payload.data.attributes.expires_at if payload else None
    with call.unit() as tx:
        refund = access.refund(tx, refund_id, admin=True)
        if refund.state == RefundState.EXTERNAL:
            if then is None:
                raise InvalidValue(
                    "Say what happens to the order: then = cancel or pending.",
                    pointer="/data/attributes/then",
                    code="missing",
                )
            if expires_at is not None and (then != "pending" or expires_at <= now()):
                raise InvalidValue(
                    "expires-at is a future deadline, given with then = pending.", pointer="/data/attributes/expires-at"
                )
            orders.accept_external_refund(tx.session, refund.id, actor=tx.actor, then=then, expires_at=expires_at)
        else:
            if then is not None or expires_at is not None:
                member = "then" if then is not None else "expires-at"
                raise InvalidValue(
                    f"'{member}' is only for external refunds; this one is {refund.state}.",
                    pointer=f"/data/attributes/{member}",
                )
            refund = refunding.process_refund(tx.session, refund.id, actor=tx.actor)
        return tx.respond(refunds_response([refund], single=True))
