"""Tickets and check-in under ``/v1``: the PDF of an order's tickets, check-in lists, and scans.

The PDF is for the order's buyer and its organizer's team. Check-in lists are read by the team and
changed by admins; scanning takes any team role (admin or staff) — door staff scan, buyers do not.
A refused scan is recorded (committed) and answered with its reason as a JSON:API error.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Reader, Tx, Writer
from boxoffice.api.fields import ResourceId, no_client_id, related_id
from boxoffice.api.listing import collection_document, page_of
from boxoffice.catalogue.models import Event
from boxoffice.errors import InvalidValue, NotFound
from boxoffice.kit.http import ACTION_ERRORS, READ_ERRORS, JSONAPIResponse, error_responses
from boxoffice.kit.jsonapi import document
from boxoffice.kit.openapi import file_responses
from boxoffice.kit.query import Query, QuerySpec, any_of
from boxoffice.kit.responses import domain_error_response
from boxoffice.kit.schemas import ToMany, check_id
from boxoffice.orders.models import Order, OrderPosition
from boxoffice.orders.schemas import PositionDocument
from boxoffice.orders.serializers import position_resource
from boxoffice.tickets import service
from boxoffice.tickets.models import Checkin, CheckInList
from boxoffice.tickets.repository import attendee_names, figures, list_figures
from boxoffice.tickets.rules import ScanResult
from boxoffice.tickets.schemas import (
    AttendeeRequest,
    CheckinCreateRequest,
    CheckinDocument,
    CheckInListDocument,
    CheckinListDocument,
    CheckInListListDocument,
    ListCreateRequest,
    ListUpdateRequest,
)
from boxoffice.tickets.serializers import CHECKIN_FIELDS, LIST_FIELDS, checkin_resource, list_resource

router = APIRouter(tags=["tickets"], default_response_class=JSONAPIResponse)

LISTS = QuerySpec("check-in-lists", fields={"check-in-lists": LIST_FIELDS}, sort={"name"}, default_sort="name")
LIST = QuerySpec("check-in-lists", fields={"check-in-lists": LIST_FIELDS})
CHECKINS = QuerySpec(
    "checkins",
    fields={"checkins": CHECKIN_FIELDS},
    sort={"created-at"},
    default_sort="-created-at",
    filters={"result": any_of(*(r.value for r in ScanResult))},
)
SCAN_ERRORS = error_responses(400, 401, 403, 404, 409, 415, 422)


# -- the PDF ---------------------------------------------------------------------------------------


def pdf_response(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get(
    "/v1/orders/{order_id}/tickets.pdf",
    response_class=Response,
    responses=file_responses(["application/pdf"], 400, 401, 403, 404, 409),
    summary="The order's tickets as a PDF (buyer or team)",
    description="One page per valid ticket (not canceled) with the event, its date and place, the product, the "
    "attendee, the price, the order code and a QR code of the position's `secret`. 409 `order-not-paid` "
    "while the order is not paid.",
)
def tickets_pdf(order_id: ResourceId, call: Reader) -> Response:
    with call.unit() as tx:
        order = access.order(tx, order_id, buyer=True)
        order = tx.session.execute(
            select(Order)
            .where(Order.id == order.id)
            .options(selectinload(Order.positions).selectinload(OrderPosition.product))
        ).scalar_one()
        content, filename = service.tickets_pdf(order)
    return pdf_response(content, filename)


# -- attendees ------------------------------------------------------------------------------------


@router.patch(
    "/v1/order-positions/{position_id}",
    response_model=PositionDocument,
    responses=ACTION_ERRORS,
    summary="Name a ticket's attendee (the order's buyer or the team)",
    description="Only `attendee-name` changes, until the event begins (409 `event-started`); not on a "
    "canceled order (409 `order-canceled`) or a canceled position (422).",
)
def set_attendee(position_id: ResourceId, payload: AttendeeRequest, call: Writer) -> Response:
    check_id(payload.data.id, position_id)
    with call.unit() as tx:
        position = access.position(tx, position_id)
        order = position.order
        if position.canceled:
            raise InvalidValue("This position is canceled; it has no ticket to name.", parameter="id")
        name = payload.data.attributes.attendee_name or ""
        service.set_attendee_names(tx.session, order, {position.id: name}, actor=tx.actor)
        return tx.respond(JSONAPIResponse(document(position_resource(position, order.currency))))


# -- check-in lists --------------------------------------------------------------------------------


def _list(tx: Tx, list_id: int, *, admin: bool = False) -> tuple[CheckInList, Event]:
    """The check-in list if the caller is on its organizer's team (404 for everyone else)."""
    found = tx.session.get(CheckInList, list_id)
    missing = NotFound(f"Check-in list {list_id} does not exist.", parameter="id")
    if found is None:
        raise missing
    event = tx.session.get(Event, found.event_id)
    assert event is not None  # a foreign key
    access.check(tx.principal, event.organizer_id, missing, admin=admin)
    return found, event


def _product_ids(linkage: ToMany[Any] | None) -> list[int]:
    if linkage is None:
        return []
    return [
        related_id(item.id, "Product", f"/data/relationships/products/data/{i}/id")
        for i, item in enumerate(linkage.data)
    ]


def _list_document(tx: Tx, check_in_list: CheckInList, event: Event, status_code: int = 200) -> JSONAPIResponse:
    resource = list_resource(check_in_list, figures(tx.session, event, check_in_list))
    headers = {"Location": f"/v1/check-in-lists/{check_in_list.id}"} if status_code == 201 else None
    return JSONAPIResponse(document(resource), status_code=status_code, headers=headers)


@router.post(
    "/v1/events/{event_id}/check-in-lists",
    status_code=201,
    response_model=CheckInListDocument,
    responses=ACTION_ERRORS,
    summary="Create a check-in list (admins)",
    description="`all-products` (default true) admits every product of the event; otherwise only the "
    "`products` related. `allow-reentry` (default false) admits a ticket again on each scan.",
)
def create_list(event_id: ResourceId, payload: ListCreateRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    product_ids = _product_ids(data.relationships.products)
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True)
        attrs = data.attributes
        created = service.create_list(
            tx.session,
            event,
            name=attrs.name,
            all_products=attrs.all_products,
            allow_reentry=attrs.allow_reentry,
            product_ids=product_ids,
        )
        return tx.respond(_list_document(tx, created, event, 201))


@router.get(
    "/v1/events/{event_id}/check-in-lists",
    response_model=CheckInListListDocument,
    responses=READ_ERRORS,
    summary="The event's check-in lists, with tickets admitted and expected",
)
def list_lists(
    request: Request, event_id: ResourceId, call: Reader, query: Annotated[Query, Depends(LISTS)]
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        statement = (
            select(CheckInList).where(CheckInList.event_id == event.id).options(selectinload(CheckInList.products))
        )
        page = page_of(tx.session, statement, query, {"name": CheckInList.name}, CheckInList.id)
        fields = query.fields_for("check-in-lists")
        # The event's tickets are counted once for the page, not once per list.
        counted = list_figures(tx.session, event, page.items)
        data = [list_resource(item, counted[item.id], fields) for item in page.items]
        return JSONAPIResponse(collection_document(request, page, data))


@router.get(
    "/v1/check-in-lists/{list_id}",
    response_model=CheckInListDocument,
    responses=READ_ERRORS,
    summary="A check-in list",
)
def get_list(list_id: ResourceId, call: Reader, query: Annotated[Query, Depends(LIST)]) -> Response:
    with call.unit() as tx:
        found, event = _list(tx, list_id)
        resource = list_resource(found, figures(tx.session, event, found), query.fields_for("check-in-lists"))
        return JSONAPIResponse(document(resource))


@router.patch(
    "/v1/check-in-lists/{list_id}",
    response_model=CheckInListDocument,
    responses=ACTION_ERRORS,
    summary="Change a check-in list (admins)",
)
def update_list(list_id: ResourceId, payload: ListUpdateRequest, call: Writer) -> Response:
    data = payload.data
    check_id(data.id, list_id)
    products = _product_ids(data.relationships.products) if "products" in data.relationships.model_fields_set else None
    with call.unit() as tx:
        found, event = _list(tx, list_id, admin=True)
        attrs = data.attributes
        updated = service.update_list(
            tx.session,
            found,
            event,
            name=attrs.name,
            all_products=attrs.all_products,
            allow_reentry=attrs.allow_reentry,
            product_ids=products,
        )
        return tx.respond(_list_document(tx, updated, event))


# -- scans -----------------------------------------------------------------------------------------


@router.post(
    "/v1/check-in-lists/{list_id}/checkins",
    status_code=201,
    response_model=CheckinDocument,
    responses=SCAN_ERRORS,
    summary="Scan a ticket at a door (team: admin or staff)",
    description="201 with `result: ok` admits the ticket. A refused scan is recorded too and answered with "
    "409 `already-checked-in`, `unpaid`, `canceled`, `not-on-list` or `test-mode-ticket` (a ticket of a "
    "test-mode order once the event is out of test mode), or 404 `unknown-ticket`; the error's "
    "`meta` names the ticket (`order-code`, `product`, `attendee-name`) when it was found. Two scans of one "
    "ticket at the same moment admit it once.",
)
def create_checkin(list_id: ResourceId, payload: CheckinCreateRequest, call: Writer) -> Response:
    no_client_id(payload.data.id)
    with call.unit() as tx:
        # The list, its event and the ticket in one query; the caller is checked before anything is written.
        found = service.open_door(tx.session, list_id, payload.data.attributes.secret)
        missing = NotFound(f"Check-in list {list_id} does not exist.", parameter="id")
        if found is None:
            raise missing
        access.check(tx.principal, found.organizer_id, missing)
        scanned = service.scan(tx.session, found, actor=tx.actor)
        ticket = scanned.ticket
        attendee = ticket.attendee_name if ticket else None
        if scanned.refusal is not None:
            if ticket is not None:
                scanned.refusal.meta.update(
                    {"order-code": ticket.order_code, "product": ticket.product_name, "attendee-name": attendee}
                )
            return tx.respond(domain_error_response(scanned.refusal))
        resource = checkin_resource(scanned.checkin, attendee)
        resource["meta"] = {"order-code": ticket.order_code, "product": ticket.product_name} if ticket else {}
        return tx.respond(JSONAPIResponse(document(resource), status_code=201))


@router.get(
    "/v1/check-in-lists/{list_id}/checkins",
    response_model=CheckinListDocument,
    responses=READ_ERRORS,
    summary="Every scan at a check-in list, admitted or refused, newest first",
    description="`filter[result]` takes comma-separated results (`ok` or a refusal code).",
)
def list_checkins(
    request: Request, list_id: ResourceId, call: Reader, query: Annotated[Query, Depends(CHECKINS)]
) -> Response:
    with call.unit() as tx:
        found, _ = _list(tx, list_id)
        statement = select(Checkin).where(Checkin.check_in_list_id == found.id)
        if "result" in query.filters:
            statement = statement.where(Checkin.result.in_(sorted(query.filters["result"])))
        page = page_of(tx.session, statement, query, {"created-at": Checkin.id}, Checkin.id)
        position_ids = {c.position_id for c in page.items if c.position_id is not None}
        names = attendee_names(tx.session, position_ids)
        fields = query.fields_for("checkins")
        data = [checkin_resource(c, names.get(c.position_id) if c.position_id else None, fields) for c in page.items]
        return JSONAPIResponse(collection_document(request, page, data))
