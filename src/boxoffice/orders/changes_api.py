"""Changing an order (``POST /v1/orders/{id}/change``) and canceling a whole event
(``POST /v1/events/{id}/cancel``, a background job)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Writer
from boxoffice.api.fields import ResourceId, money, related_id
from boxoffice.errors import NotFound
from boxoffice.jobs.schemas import JobDocument
from boxoffice.jobs.serializers import job_resource
from boxoffice.kit.http import ACTION_ERRORS, JSONAPIResponse
from boxoffice.kit.jsonapi import document
from boxoffice.kit.money import format_amount
from boxoffice.orders import bulk
from boxoffice.orders.api import OrderQuery, order_response
from boxoffice.orders.cancellation import FeeRule
from boxoffice.orders.changes import OrderChange, change_order
from boxoffice.orders.schemas import EventCancelRequest, OrderChangeRequest, OrderDocument
from boxoffice.orders.service import LineItem

router = APIRouter(tags=["orders"], default_response_class=JSONAPIResponse)
ATTRS = "/data/attributes"


@router.post(
    "/v1/orders/{order_id}/change",
    response_model=OrderDocument,
    responses=ACTION_ERRORS,
    summary="Change an order's positions in one atomic step (admins)",
    description="Adds, removes, re-prices or re-products positions together, with quota checks for what is "
    "added. Money owed sends a paid order back to pending (or keeps it paid as underpaid, per the event's "
    "`change-underpaid-policy`); money to give back is answered as `meta.refund-proposal` (payment id and "
    "amount pairs) for `POST /v1/payments/{id}/refund`.",
)
def change(order_id: ResourceId, payload: OrderChangeRequest, call: Writer, query: OrderQuery) -> Response:
    attrs = payload.data.attributes
    with call.unit() as tx:
        order = access.order(tx, order_id, admin=True)
        currency = order.currency
        plan = OrderChange(
            add=[
                LineItem(related_id(p.product, "Product", f"{ATTRS}/add/{i}/product"), p.quantity)
                for i, p in enumerate(attrs.add)
            ],
            remove=[related_id(p, "Position", f"{ATTRS}/remove/{i}") for i, p in enumerate(attrs.remove)],
            set_price=[
                (
                    related_id(c.position, "Position", f"{ATTRS}/set-price/{i}/position"),
                    money(c.price, currency, pointer=f"{ATTRS}/set-price/{i}/price"),
                )
                for i, c in enumerate(attrs.set_price)
            ],
            set_product=[
                (
                    related_id(c.position, "Position", f"{ATTRS}/set-product/{i}/position"),
                    related_id(c.product, "Product", f"{ATTRS}/set-product/{i}/product"),
                )
                for i, c in enumerate(attrs.set_product)
            ],
        )
        result = change_order(tx.session, order.id, plan, actor=tx.actor)
        proposal = [
            {"payment": str(payment_id), "amount": format_amount(amount, currency)}
            for payment_id, amount in result.refund_proposal
        ]
        meta: dict[str, Any] = {"difference": format_amount(result.difference, currency), "refund-proposal": proposal}
        return tx.respond(order_response(tx, result.order, query, **meta))


@router.post(
    "/v1/events/{event_id}/cancel",
    status_code=202,
    response_model=JobDocument,
    responses=ACTION_ERRORS,
    summary="Cancel every order of an event, or of one product (admins; a background job)",
    description="Each order is canceled with the same fee rules as `POST /v1/orders/{id}/cancel` and its money "
    "given back. Answers 202 with a `jobs` resource; `GET /v1/jobs/{id}` shows its progress and, at the end, "
    "its report: refunded automatically, manual refunds waiting, failures. A job that dies is resumed by the "
    "queue's sweep and refunds nobody twice.",
)
def cancel_event(
    event_id: ResourceId, call: Writer, payload: Annotated[EventCancelRequest | None, Body()] = None
) -> Response:
    attrs = payload.data.attributes if payload else None
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True)
        fee = (
            money(attrs.cancellation_fee, event.currency, pointer=f"{ATTRS}/cancellation-fee")
            if attrs and attrs.cancellation_fee is not None
            else None
        )
        percent = attrs.cancellation_fee_percent if attrs else None
        product_id = related_id(attrs.product, "Product", f"{ATTRS}/product") if attrs and attrs.product else None
        if product_id is not None:
            _, owner = access.product(tx, product_id)
            if owner.id != event.id:
                raise NotFound(f"Product {product_id} is not a product of this event.", pointer=f"{ATTRS}/product")
        job = bulk.start_event_cancellation(
            tx.session,
            event.id,
            actor=tx.actor,
            fee_rule=FeeRule.parse(fee, percent),
            refund=attrs.refund if attrs else True,
            product_id=product_id,
        )
        return tx.respond(JSONAPIResponse(document(job_resource(job)), status_code=202))
