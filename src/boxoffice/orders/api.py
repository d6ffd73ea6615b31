"""Orders under ``/v1``: placing one (anyone), reading them (the buyer or the organizer's team),
the organizer's list with filters, and the organizer's actions on an order.

Each action calls one use case; its body is a JSON:API document whose ``type`` names the action
(see :mod:`boxoffice.orders.schemas`), and answers with the order.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.accounts.auth import issue_order_token
from boxoffice.api import access
from boxoffice.api.context import OpenWriter, Reader, Tx, Writer
from boxoffice.api.fields import ResourceId, money, no_client_id, related_id, resource_id_filter
from boxoffice.api.listing import collection_document, page_of
from boxoffice.catalogue.models import Event
from boxoffice.catalogue.repository import Shelf, event_and_shelf
from boxoffice.catalogue.serializers import EVENT_FIELDS
from boxoffice.config import get_settings
from boxoffice.errors import InvalidValue, NotFound, QuotaExceeded
from boxoffice.kit.clock import now
from boxoffice.kit.http import ACTION_ERRORS, READ_ERRORS, JSONAPIResponse
from boxoffice.kit.jsonapi import document
from boxoffice.kit.memo import Memo
from boxoffice.kit.query import Query, QuerySpec, any_of, boolean, text
from boxoffice.kit.writeahead import write_ahead
from boxoffice.orders import cancellation
from boxoffice.orders import service as orders
from boxoffice.orders.models import AuditEntry, Order, OrderPosition
from boxoffice.orders.rules import order_page_path
from boxoffice.orders.schemas import (
    AuditEntryListDocument,
    CancelRequest,
    ExtendRequest,
    MarkPaidRequest,
    OrderCreateRequest,
    OrderDocument,
    OrderListDocument,
    PositionDocument,
    PositionListDocument,
    ReactivateRequest,
)
from boxoffice.orders.serializers import (
    AUDIT_ENTRY_FIELDS,
    ORDER_FIELDS,
    ORDER_INCLUDES,
    POSITION_FIELDS,
    audit_entry_resource,
    order_data,
    order_load_options,
    position_resource,
)
from boxoffice.payments import refunding
from boxoffice.payments.schemas import check_recording_provider
from boxoffice.payments.serializers import PAYMENT_FIELDS, REFUND_FIELDS
from boxoffice.providers.registry import IMPLICIT, provider_for

router = APIRouter(tags=["orders"], default_response_class=JSONAPIResponse)

MODE_POINTER = "/data/attributes/payment-mode"
STATUSES = ("pending", "paid", "expired", "canceled")
PAYMENT_STATES = ("unpaid", "partially-paid", "paid", "overpaid", "underpaid", "pending-fully-paid", "free")

_ORDER_TYPES = {
    "orders": ORDER_FIELDS,
    "events": EVENT_FIELDS,
    "order-positions": POSITION_FIELDS,
    "payments": PAYMENT_FIELDS,
    "refunds": REFUND_FIELDS,
}
ORDERS = QuerySpec(
    "orders",
    include=ORDER_INCLUDES,
    fields=_ORDER_TYPES,
    sort={"created-at", "code", "total", "expires-at"},
    default_sort="-created-at",
    filters={
        "code": text,
        "email": text,
        "search": text,
        "status": any_of(*STATUSES),
        "event": resource_id_filter,
        "payment-state": any_of(*PAYMENT_STATES),
        "has-open-refund": boolean,
    },
)
ORDER = QuerySpec("orders", include=ORDER_INCLUDES, fields=_ORDER_TYPES)
POSITIONS = QuerySpec("order-positions", fields={"order-positions": POSITION_FIELDS})
AUDIT_ENTRIES = QuerySpec("audit-entries", fields={"audit-entries": AUDIT_ENTRY_FIELDS})

OrderQuery = Annotated[Query, Depends(ORDER)]


def order_response(tx: Tx, order: Order, query: Query, *, status_code: int = 200, **meta: object) -> JSONAPIResponse:
    """The order document (with what ``query`` includes) for the answer of a request."""
    data, included = order_data(tx.session, [order], query)
    return JSONAPIResponse(document(data[0], included=included, meta=meta or None), status_code=status_code)


# -- placing and reading ---------------------------------------------------------------------------


def _checked_event(session: Session, event_id: int, mode: str) -> Event:
    """The event the order is for (404), if ``mode`` is one of its enabled providers (or ``free``,
    for an order with nothing to pay)."""
    # With its organizer: the buyer's order page link names it.
    return _offering(session, session.get(Event, event_id, options=[joinedload(Event.organizer)]), event_id, mode)


def _offering(session: Session, event: Event | None, event_id: int, mode: str) -> Event:
    """``event`` as :func:`_checked_event` checks it, once read."""
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", pointer="/data/relationships/event/data/id")
    if mode == IMPLICIT:
        return event
    plugin = provider_for(event, mode, session, pointer=MODE_POINTER)
    if not (plugin.settings.enabled and plugin.public):
        raise InvalidValue(
            f"'{mode}' is not a payment method of this event.", pointer=MODE_POINTER, code="provider-not-enabled"
        )
    return event


# Sold-out looks of the last second, by (event, payment mode, quantities asked): in a rush most
# buyers ask the same thing, and a second-old "sold out" is as good as a fresh one — the order's
# transaction decides anyway, and a seat freed meanwhile is offered again a second later.
_SOLD_OUT: Memo[tuple[object, ...], QuotaExceeded] = Memo(seconds=1.0)


def _wanted(items: list[orders.LineItem]) -> dict[int, int] | None:
    """Tickets asked for per product, or None when the order will refuse them on its own terms
    (below one, too many), so its answer stays the same."""
    quantities: dict[int, int] = {}
    for item in items:
        if item.quantity < 1:
            return None
        quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
    if not quantities or sum(quantities.values()) > orders.MAX_POSITIONS:
        return None
    return quantities


def _refuse_if_sold_out(
    session: Session, event_id: int, mode: str, items: list[orders.LineItem]
) -> tuple[Event, Shelf | None]:
    """The event of the order (see :func:`_checked_event`) and the shelf of its products, after a 409
    for a buyer whose tickets no longer fit, before the order writes anything: in a rush the sold-out
    answers are most of the traffic, and each would otherwise insert an order, wait for the quota row
    behind the buyers still being served, and roll back. A refusal of the last second is repeated
    without any SQL. The order then takes the shelf as read (no second SELECT of its products)."""
    quantities = _wanted(items)
    key = (event_id, mode, *sorted(quantities.items())) if quantities else None
    known = _SOLD_OUT.get(key) if key else None
    if known is not None:
        raise QuotaExceeded(known.detail, meta=dict(known.meta))
    if not quantities:
        return _checked_event(session, event_id, mode), None
    looked, found = event_and_shelf(session, event_id, quantities)
    event = _offering(session, looked, event_id, mode)
    refusal = found.refusal(quantities)
    if refusal is not None:
        _SOLD_OUT.put(key, refusal)  # type: ignore[arg-type]  # a refusal implies a key
        raise refusal
    return event, found


@router.post(
    "/v1/orders",
    status_code=201,
    response_model=OrderDocument,
    responses=ACTION_ERRORS,
    summary="Place an order (anyone)",
    description="Reserves the tickets in their quotas. `meta.access-token` is a buyer token for this order only: "
    "send it as `Authorization: Bearer <token>` to read, charge and pay the order. `meta.order-page` is the "
    "buyer's secret link to the order's page in the shop (to pay there, or to come back later).",
)
def place_order(payload: OrderCreateRequest, call: OpenWriter, query: OrderQuery) -> Response:
    data = payload.data
    no_client_id(data.id)
    attrs = data.attributes
    event_id = related_id(data.relationships.event.data.id, "Event", "/data/relationships/event/data/id")
    items = []
    for index, position in enumerate(attrs.positions):
        pointer = f"/data/attributes/positions/{index}/product"
        product_id = related_id(position.product, "Product", pointer)
        items.append(orders.LineItem(product_id, position.quantity))
    looked: Event | None = None
    looked_shelf: Shelf | None = None
    # A retry with an Idempotency-Key must get its first answer, whatever is left now: it goes
    # straight to the unit of work, which claims the key first (the order itself still refuses).
    if call.keyed is None:
        with call.look() as session:
            looked, looked_shelf = _refuse_if_sold_out(session, event_id, attrs.payment_mode, items)
    with call.unit() as tx:
        if looked is None:
            event = _checked_event(tx.session, event_id, attrs.payment_mode)
        else:  # as just read: no second SELECT
            event = tx.session.merge(looked, load=False)
        order = orders.place_order(
            tx.session,
            event.id,
            email=attrs.email,
            items=items,
            actor=tx.actor,
            payment_mode=attrs.payment_mode,
            locale=attrs.locale or "en",
            looked=looked_shelf,
        )
        if attrs.payment_mode == IMPLICIT and order.total != 0:
            raise InvalidValue("'free' is only for orders with nothing to pay.", pointer=MODE_POINTER)
        meta = {
            "access-token": issue_order_token(tx.session, order.id, order.code),
            "order-page": get_settings().public_url + order_page_path(order),
        }
        response = order_response(tx, order, query, status_code=201, **meta)
        response.headers["Location"] = f"/v1/orders/{order.id}"
        return tx.respond(response)


@router.get(
    "/v1/orders",
    response_model=OrderListDocument,
    responses=READ_ERRORS,
    summary="Your organizers' orders",
    description="`filter[search]` matches the start of the code or of the e-mail address. "
    "`filter[payment-state]` and `filter[status]` take comma-separated values.",
)
def list_orders(request: Request, call: Reader, query: Annotated[Query, Depends(ORDERS)]) -> Response:
    with call.unit() as tx:
        statement = (
            select(Order)
            .join(Event, Event.id == Order.event_id)
            .where(Event.organizer_id.in_(access.organizer_ids(tx.principal)))
        )
        filters = query.filters
        if "code" in filters:
            statement = statement.where(Order.code == filters["code"].upper())
        if "email" in filters:
            statement = statement.where(func.lower(Order.email) == filters["email"].lower())
        if "search" in filters:
            term = filters["search"]
            statement = statement.where(
                or_(
                    Order.code.startswith(term.upper(), autoescape=True),
                    func.lower(Order.email).startswith(term.lower(), autoescape=True),
                )
            )
        if "status" in filters:
            statement = statement.where(Order.status.in_(sorted(filters["status"])))
        if "event" in filters:
            statement = statement.where(Order.event_id == filters["event"])
        if "payment-state" in filters:
            statement = statement.where(Order.payment_state.in_(sorted(filters["payment-state"])))
        if "has-open-refund" in filters:
            statement = statement.where(Order.has_open_refund.is_(filters["has-open-refund"]))
        columns = {
            "created-at": Order.created_at,
            "code": Order.code,
            "total": Order.total,
            "expires-at": Order.expires_at,
        }
        page = page_of(tx.session, statement.options(*order_load_options(query.include)), query, columns, Order.id)
        data, included = order_data(tx.session, page.items, query)
        return JSONAPIResponse(collection_document(request, page, data, included))


@router.get("/v1/orders/{order_id}", response_model=OrderDocument, responses=READ_ERRORS, summary="An order")
def get_order(order_id: ResourceId, call: Reader, query: OrderQuery) -> Response:
    with call.unit() as tx:
        return order_response(tx, access.order(tx, order_id, buyer=True), query)


@router.get("/v1/orders/{order_id}/positions", response_model=PositionListDocument, responses=READ_ERRORS)
def list_positions(
    request: Request, order_id: ResourceId, call: Reader, query: Annotated[Query, Depends(POSITIONS)]
) -> Response:
    with call.unit() as tx:
        order = access.order(tx, order_id, buyer=True)
        statement = select(OrderPosition).where(OrderPosition.order_id == order.id)
        page = page_of(tx.session, statement, query, {}, OrderPosition.id)
        fields = query.fields_for("order-positions")
        data = [position_resource(p, order.currency, fields) for p in page.items]
        return JSONAPIResponse(collection_document(request, page, data))


@router.get("/v1/order-positions/{position_id}", response_model=PositionDocument, responses=READ_ERRORS)
def get_position(position_id: ResourceId, call: Reader, query: Annotated[Query, Depends(POSITIONS)]) -> Response:
    with call.unit() as tx:
        found = access.position(tx, position_id)
        resource = position_resource(found, found.order.currency, query.fields_for("order-positions"))
        return JSONAPIResponse(document(resource))


@router.get(
    "/v1/orders/{order_id}/audit-entries",
    response_model=AuditEntryListDocument,
    responses=READ_ERRORS,
    summary="Every change of the order, its payments and refunds, with who made it",
)
def list_audit_entries(
    request: Request, order_id: ResourceId, call: Reader, query: Annotated[Query, Depends(AUDIT_ENTRIES)]
) -> Response:
    with call.unit() as tx:
        order = access.order(tx, order_id)
        statement = select(AuditEntry).where(AuditEntry.order_id == order.id)
        page = page_of(tx.session, statement, query, {}, AuditEntry.id)
        fields = query.fields_for("audit-entries")
        return JSONAPIResponse(
            collection_document(request, page, [audit_entry_resource(e, fields) for e in page.items])
        )


# -- actions ---------------------------------------------------------------------------------------


@router.post(
    "/v1/orders/{order_id}/mark-paid",
    response_model=OrderDocument,
    responses=ACTION_ERRORS,
    summary="Mark an order paid (team)",
    description="What is left to pay is recorded as a confirmed payment of `provider` (default manual).",
)
def mark_paid(
    order_id: ResourceId, call: Writer, query: OrderQuery, payload: Annotated[MarkPaidRequest | None, Body()] = None
) -> Response:
    provider = payload.data.attributes.provider if payload else "manual"
    with call.unit() as tx:
        order = access.order(tx, order_id)
        check_recording_provider(provider)
        order = orders.mark_paid(tx.session, order.id, actor=tx.actor, provider=provider)
        return tx.respond(order_response(tx, order, query))


@router.post(
    "/v1/orders/{order_id}/cancel",
    response_model=OrderDocument,
    responses=ACTION_ERRORS,
    summary="Cancel an order (admins; the buyer within the event's rules)",
    description="Seats go back to their quotas. With `refund` (default true) what was paid beyond "
    "`cancellation-fee` plus `cancellation-fee-percent` of the total is refunded: automatic refunds are "
    "executed by their providers, others are left `created` for the organizer. Ask `include=refunds` to see "
    "them. The order's buyer may cancel it too: an unpaid order always, a paid one when the event allows "
    "(`buyer-cancel-paid`, before `buyer-cancel-deadline`, keeping `buyer-cancel-fee-abs`/`-percent`); the "
    "fee attributes are then the event's, not the buyer's.",
)
def cancel(
    order_id: ResourceId, call: Writer, query: OrderQuery, payload: Annotated[CancelRequest | None, Body()] = None
) -> Response:
    attrs = payload.data.attributes if payload else None

    def write(tx: Tx) -> list[int]:
        if tx.principal.kind == "buyer" and tx.principal.order_id == order_id:
            # The buyer cancels their own order within the event's rules, at the event's fee.
            access.order(tx, order_id, buyer=True)
            return cancellation.buyer_cancel_and_write_refunds(tx.session, order_id, actor=tx.actor).refund_ids
        order = access.order(tx, order_id, admin=True)
        fee = (
            money(attrs.cancellation_fee, order.currency, pointer="/data/attributes/cancellation-fee")
            if attrs is not None and attrs.cancellation_fee is not None
            else None
        )
        return cancellation.cancel_and_write_refunds(
            tx.session,
            order.id,
            actor=tx.actor,
            fee_rule=cancellation.FeeRule.parse(fee, attrs.cancellation_fee_percent if attrs else None),
            refund=attrs.refund if attrs is not None else True,
            comment=attrs.comment if attrs is not None else None,
        ).refund_ids

    # The refunds are committed with the cancellation, then each goes to its provider in a unit of
    # its own (a refusal marks that refund failed and does not undo the others); then the answer.
    write_ahead(call.unit, write, lambda tx, refund_id: refunding.execute_refund(tx.session, refund_id, actor=tx.actor))
    with call.unit() as tx:
        return tx.respond(order_response(tx, access.order(tx, order_id, buyer=True, admin=True), query))


@router.post(
    "/v1/orders/{order_id}/extend",
    response_model=OrderDocument,
    responses=ACTION_ERRORS,
    summary="Give a pending or expired order a new deadline (team)",
)
def extend(order_id: ResourceId, payload: ExtendRequest, call: Writer, query: OrderQuery) -> Response:
    with call.unit() as tx:
        order = access.order(tx, order_id)
        order = orders.extend_order(tx.session, order.id, actor=tx.actor, expires_at=payload.data.attributes.expires_at)
        return tx.respond(order_response(tx, order, query))


@router.post(
    "/v1/orders/{order_id}/reactivate",
    response_model=OrderDocument,
    responses=ACTION_ERRORS,
    summary="Bring an expired order back to pending, if its seats are still there (team)",
)
def reactivate(
    order_id: ResourceId, call: Writer, query: OrderQuery, payload: Annotated[ReactivateRequest | None, Body()] = None
) -> Response:
    expires_at = payload.data.attributes.expires_at if payload else None
    with call.unit() as tx:
        order = access.order(tx, order_id)
        if expires_at is not None and expires_at <= now():
            raise InvalidValue("The new deadline must be in the future.", pointer="/data/attributes/expires-at")
        order = orders.reactivate_order(tx.session, order.id, actor=tx.actor, expires_at=expires_at)
        return tx.respond(order_response(tx, order, query))
