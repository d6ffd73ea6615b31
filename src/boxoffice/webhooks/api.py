"""Outgoing webhooks under ``/v1``: an organizer's endpoints, their delivery log, and redelivery.

Reading takes any team role; registering, changing and redelivering take an admin. Endpoints and
deliveries of another organizer are 404 (see :mod:`boxoffice.api.access`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Reader, Tx, Writer
from boxoffice.api.fields import ResourceId, changes_of, no_client_id, related_id, resource_id_filter
from boxoffice.api.listing import collection_document, page_of
from boxoffice.errors import InvalidValue, NotFound
from boxoffice.kit.http import ACTION_ERRORS, READ_ERRORS, JSONAPIResponse
from boxoffice.kit.jsonapi import document
from boxoffice.kit.query import Query, QuerySpec, boolean, one_of
from boxoffice.kit.schemas import check_id
from boxoffice.webhooks import service
from boxoffice.webhooks.models import WebhookDelivery, WebhookEndpoint
from boxoffice.webhooks.rules import EVENT_TYPES
from boxoffice.webhooks.schemas import (
    DeliveryDocument,
    DeliveryListDocument,
    EndpointCreateRequest,
    EndpointDocument,
    EndpointListDocument,
    EndpointUpdateRequest,
)
from boxoffice.webhooks.serializers import DELIVERY_FIELDS, ENDPOINT_FIELDS, delivery_resource, endpoint_resource

router = APIRouter(tags=["webhooks"])


ENDPOINTS = QuerySpec(
    "webhook-endpoints",
    fields={"webhook-endpoints": ENDPOINT_FIELDS},
    sort={"created-at"},
    default_sort="created-at",
    filters={"organizer": resource_id_filter, "enabled": boolean},
)
ENDPOINT = QuerySpec("webhook-endpoints", fields={"webhook-endpoints": ENDPOINT_FIELDS})
DELIVERIES = QuerySpec(
    "webhook-deliveries",
    fields={"webhook-deliveries": DELIVERY_FIELDS},
    sort={"created-at"},
    default_sort="-created-at",
    filters={"state": one_of("pending", "delivered", "failed"), "event-type": one_of(*EVENT_TYPES)},
)
DELIVERY = QuerySpec("webhook-deliveries", fields={"webhook-deliveries": DELIVERY_FIELDS})
ORGANIZER_POINTER = "/data/relationships/organizer/data/id"


def _endpoint(tx: Tx, endpoint_id: int, *, admin: bool = False) -> WebhookEndpoint:
    found = tx.session.get(WebhookEndpoint, endpoint_id)
    missing = NotFound(f"Webhook endpoint {endpoint_id} does not exist.", parameter="id")
    if found is None:
        raise missing
    access.check(tx.principal, found.organizer_id, missing, admin=admin)
    return found


def _delivery(tx: Tx, delivery_id: int, *, admin: bool = False) -> WebhookDelivery:
    found = tx.session.execute(
        select(WebhookDelivery)
        .options(selectinload(WebhookDelivery.log), selectinload(WebhookDelivery.endpoint))
        .where(WebhookDelivery.id == delivery_id)
    ).scalar_one_or_none()
    missing = NotFound(f"Webhook delivery {delivery_id} does not exist.", parameter="id")
    if found is None:
        raise missing
    access.check(tx.principal, found.endpoint.organizer_id, missing, admin=admin)
    return found


def _organizer_of_new_endpoint(tx: Tx, payload: EndpointCreateRequest) -> int:
    linkage = payload.data.relationships.organizer
    if linkage is not None:
        organizer_id = related_id(linkage.data.id, "Organizer", ORGANIZER_POINTER)
        return access.organizer(tx, organizer_id, admin=True, pointer=ORGANIZER_POINTER).id
    mine = access.organizer_ids(tx.principal)
    if len(mine) != 1:
        raise InvalidValue(
            "Name the organizer the endpoint belongs to (you are on several teams).",
            pointer="/data/relationships/organizer",
            code="organizer-required",
        )
    return access.organizer(tx, mine[0], admin=True).id


@router.post(
    "/v1/webhook-endpoints",
    status_code=201,
    response_model=EndpointDocument,
    responses=ACTION_ERRORS,
    summary="Register an outgoing webhook (admins); the answer shows its signing secret, once",
)
def create_endpoint(payload: EndpointCreateRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    attrs = data.attributes
    with call.unit() as tx:
        endpoint = service.create_endpoint(
            tx.session,
            _organizer_of_new_endpoint(tx, payload),
            url=attrs.url,
            event_types=attrs.event_types,
            enabled=attrs.enabled,
            description=attrs.description,
        )
        headers = {"Location": f"/v1/webhook-endpoints/{endpoint.id}"}
        body = document(endpoint_resource(endpoint, with_secret=True))
        return tx.respond(JSONAPIResponse(body, status_code=201, headers=headers))


@router.get(
    "/v1/webhook-endpoints", response_model=EndpointListDocument, responses=READ_ERRORS, summary="Your webhooks"
)
def list_endpoints(request: Request, call: Reader, query: Annotated[Query, Depends(ENDPOINTS)]) -> Response:
    with call.unit() as tx:
        statement = select(WebhookEndpoint).where(WebhookEndpoint.organizer_id.in_(access.organizer_ids(tx.principal)))
        if "organizer" in query.filters:
            statement = statement.where(WebhookEndpoint.organizer_id == query.filters["organizer"])
        if "enabled" in query.filters:
            statement = statement.where(WebhookEndpoint.enabled.is_(query.filters["enabled"]))
        page = page_of(tx.session, statement, query, {"created-at": WebhookEndpoint.created_at}, WebhookEndpoint.id)
        fields = query.fields_for("webhook-endpoints")
        return JSONAPIResponse(collection_document(request, page, [endpoint_resource(e, fields) for e in page.items]))


@router.get("/v1/webhook-endpoints/{endpoint_id}", response_model=EndpointDocument, responses=READ_ERRORS)
def get_endpoint(endpoint_id: ResourceId, call: Reader, query: Annotated[Query, Depends(ENDPOINT)]) -> Response:
    with call.unit() as tx:
        endpoint = _endpoint(tx, endpoint_id)
        return JSONAPIResponse(document(endpoint_resource(endpoint, query.fields_for("webhook-endpoints"))))


@router.patch(
    "/v1/webhook-endpoints/{endpoint_id}",
    response_model=EndpointDocument,
    responses=ACTION_ERRORS,
    summary="Change a webhook (admins): URL, event types, enabled, description",
)
def update_endpoint(endpoint_id: ResourceId, payload: EndpointUpdateRequest, call: Writer) -> Response:
    check_id(payload.data.id, endpoint_id)
    changes = changes_of(payload.data.attributes, nullable={"description"})
    with call.unit() as tx:
        endpoint = _endpoint(tx, endpoint_id, admin=True)
        endpoint = service.update_endpoint(tx.session, endpoint.id, endpoint.organizer_id, changes)
        return tx.respond(JSONAPIResponse(document(endpoint_resource(endpoint))))


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}",
    status_code=204,
    response_model=None,
    responses=ACTION_ERRORS,
    summary="Delete a webhook (admins), with its delivery log; nothing more is sent to it",
)
def delete_endpoint(endpoint_id: ResourceId, call: Writer) -> Response:
    with call.unit() as tx:
        endpoint = _endpoint(tx, endpoint_id, admin=True)
        service.delete_endpoint(tx.session, endpoint.id, endpoint.organizer_id)
        return tx.respond(Response(status_code=204))


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    response_model=DeliveryListDocument,
    responses=READ_ERRORS,
    summary="A webhook's delivery log, newest first",
)
def list_deliveries(
    request: Request, endpoint_id: ResourceId, call: Reader, query: Annotated[Query, Depends(DELIVERIES)]
) -> Response:
    with call.unit() as tx:
        endpoint = _endpoint(tx, endpoint_id)
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .options(selectinload(WebhookDelivery.log))
        )
        if "state" in query.filters:
            statement = statement.where(WebhookDelivery.state == query.filters["state"])
        if "event-type" in query.filters:
            statement = statement.where(WebhookDelivery.event_type == query.filters["event-type"])
        page = page_of(tx.session, statement, query, {"created-at": WebhookDelivery.created_at}, WebhookDelivery.id)
        fields = query.fields_for("webhook-deliveries")
        return JSONAPIResponse(collection_document(request, page, [delivery_resource(d, fields) for d in page.items]))


@router.get("/v1/webhook-deliveries/{delivery_id}", response_model=DeliveryDocument, responses=READ_ERRORS)
def get_delivery(delivery_id: ResourceId, call: Reader, query: Annotated[Query, Depends(DELIVERY)]) -> Response:
    with call.unit() as tx:
        delivery = _delivery(tx, delivery_id)
        return JSONAPIResponse(document(delivery_resource(delivery, query.fields_for("webhook-deliveries"))))


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryDocument,
    responses=ACTION_ERRORS,
    summary="Send a delivery again now (admins), with a fresh three-day retry window",
)
def redeliver(delivery_id: ResourceId, call: Writer) -> Response:
    with call.unit() as tx:
        delivery = _delivery(tx, delivery_id, admin=True)
        delivery = service.redeliver(tx.session, delivery.id)
        return tx.respond(JSONAPIResponse(document(delivery_resource(delivery)), status_code=202))
