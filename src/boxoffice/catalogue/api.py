"""The catalogue under ``/v1``: organizers, events, products and quotas, for the organizer's team.

Reading takes any team role; creating and changing takes an admin. Everything of another organizer
is 404 (see :mod:`boxoffice.api.access`).
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
from boxoffice.api.fields import ResourceId, changes_of, money, no_client_id, related_id, resource_id_filter
from boxoffice.api.listing import collection_document, page_of
from boxoffice.catalogue import rules, service
from boxoffice.catalogue.models import Event, Organizer, Product, Quota
from boxoffice.catalogue.schemas import (
    EventCreateRequest,
    EventDocument,
    EventListDocument,
    EventUpdateRequest,
    OrganizerDocument,
    OrganizerListDocument,
    ProductCreateRequest,
    ProductDocument,
    ProductListDocument,
    ProductUpdateRequest,
    QuotaCreateRequest,
    QuotaDocument,
    QuotaListDocument,
    QuotaUpdateRequest,
)
from boxoffice.catalogue.serializers import (
    EVENT_FIELDS,
    ORGANIZER_FIELDS,
    PRODUCT_FIELDS,
    QUOTA_FIELDS,
    event_resource,
    organizer_resource,
    product_resource,
    quota_resource,
)
from boxoffice.errors import NotFound
from boxoffice.kit.http import ACTION_ERRORS, JSONAPIResponse, error_responses
from boxoffice.kit.jsonapi import document
from boxoffice.kit.query import Query, QuerySpec
from boxoffice.kit.schemas import ToMany, check_id
from boxoffice.providers.registry import validate_payment_providers

router = APIRouter(tags=["catalogue"], default_response_class=JSONAPIResponse)

READ_ERRORS = error_responses(400, 401, 404)

ORGANIZERS = QuerySpec(
    "organizers", fields={"organizers": ORGANIZER_FIELDS}, sort={"slug", "name"}, default_sort="slug"
)
ORGANIZER = QuerySpec("organizers", fields={"organizers": ORGANIZER_FIELDS})
EVENTS = QuerySpec(
    "events",
    fields={"events": EVENT_FIELDS},
    sort={"name", "slug", "created-at", "date-from"},
    default_sort="-created-at",
    filters={"organizer": resource_id_filter},
)
EVENT = QuerySpec("events", fields={"events": EVENT_FIELDS})
PRODUCTS = QuerySpec(
    "products", fields={"products": PRODUCT_FIELDS}, sort={"position", "name"}, default_sort="position"
)
PRODUCT = QuerySpec("products", fields={"products": PRODUCT_FIELDS})
QUOTAS = QuerySpec("quotas", fields={"quotas": QUOTA_FIELDS}, sort={"name"}, default_sort="name")
QUOTA = QuerySpec("quotas", fields={"quotas": QUOTA_FIELDS})


def _quotas_of(tx: Tx, event: Event, linkage: ToMany[Any] | None) -> list[Quota]:
    """The quotas a document links, which must be the event's (others are 404: they do not exist here)."""
    if linkage is None:
        return []
    ids = [
        related_id(item.id, "Quota", f"/data/relationships/quotas/data/{i}/id") for i, item in enumerate(linkage.data)
    ]
    found = {
        q.id: q
        for q in tx.session.execute(select(Quota).where(Quota.id.in_(ids), Quota.event_id == event.id)).scalars()
    }
    for index, quota_id in enumerate(ids):
        if quota_id not in found:
            raise NotFound(
                f"Quota {quota_id} is not a quota of this event.", pointer=f"/data/relationships/quotas/data/{index}/id"
            )
    return [found[i] for i in dict.fromkeys(ids)]


# -- organizers ------------------------------------------------------------------------------------


@router.get("/v1/organizers", response_model=OrganizerListDocument, responses=READ_ERRORS, summary="Your organizers")
def list_organizers(request: Request, call: Reader, query: Annotated[Query, Depends(ORGANIZERS)]) -> Response:
    with call.unit() as tx:
        statement = select(Organizer).where(Organizer.id.in_(access.organizer_ids(tx.principal)))
        page = page_of(tx.session, statement, query, {"slug": Organizer.slug, "name": Organizer.name}, Organizer.id)
        fields = query.fields_for("organizers")
        return JSONAPIResponse(collection_document(request, page, [organizer_resource(o, fields) for o in page.items]))


@router.get("/v1/organizers/{organizer_id}", response_model=OrganizerDocument, responses=READ_ERRORS)
def get_organizer(organizer_id: ResourceId, call: Reader, query: Annotated[Query, Depends(ORGANIZER)]) -> Response:
    with call.unit() as tx:
        found = access.organizer(tx, organizer_id)
        return JSONAPIResponse(document(organizer_resource(found, query.fields_for("organizers"))))


# -- events ----------------------------------------------------------------------------------------


@router.get("/v1/events", response_model=EventListDocument, responses=READ_ERRORS, summary="Your organizers' events")
def list_events(request: Request, call: Reader, query: Annotated[Query, Depends(EVENTS)]) -> Response:
    with call.unit() as tx:
        statement = select(Event).where(Event.organizer_id.in_(access.organizer_ids(tx.principal)))
        if "organizer" in query.filters:
            statement = statement.where(Event.organizer_id == query.filters["organizer"])
        columns = {"name": Event.name, "slug": Event.slug, "created-at": Event.created_at, "date-from": Event.date_from}
        page = page_of(tx.session, statement, query, columns, Event.id)
        fields = query.fields_for("events")
        return JSONAPIResponse(collection_document(request, page, [event_resource(e, fields) for e in page.items]))


@router.post(
    "/v1/events", status_code=201, response_model=EventDocument, responses=ACTION_ERRORS, summary="Create an event"
)
def create_event(payload: EventCreateRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    attrs = data.attributes
    pointer = "/data/relationships/organizer/data/id"
    organizer_id = related_id(data.relationships.organizer.data.id, "Organizer", pointer)
    with call.unit() as tx:
        organizer = access.organizer(tx, organizer_id, admin=True, pointer=pointer)
        event = service.create_event(
            tx.session,
            organizer,
            slug=attrs.slug,
            name=attrs.name,
            currency=attrs.currency,
            timezone=rules.check_timezone(attrs.timezone),
            payment_providers=validate_payment_providers(attrs.payment_providers, currency=attrs.currency),
            settings=rules.merge_settings({}, attrs.settings, attrs.currency),
            live=attrs.live,
            test_mode=attrs.test_mode,
            actor=tx.actor,
        )
        details = {"date_from": attrs.date_from, "date_to": attrs.date_to, "location": attrs.location,
                   "description": attrs.description}
        service.update_event(tx.session, event, details, actor=tx.actor)
        headers = {"Location": f"/v1/events/{event.id}"}
        return tx.respond(JSONAPIResponse(document(event_resource(event)), status_code=201, headers=headers))


@router.get("/v1/events/{event_id}", response_model=EventDocument, responses=READ_ERRORS)
def get_event(event_id: ResourceId, call: Reader, query: Annotated[Query, Depends(EVENT)]) -> Response:
    with call.unit() as tx:
        return JSONAPIResponse(document(event_resource(access.event(tx, event_id), query.fields_for("events"))))


@router.patch(
    "/v1/events/{event_id}",
    response_model=EventDocument,
    responses=ACTION_ERRORS,
    summary="Change an event (admins): name, dates, payment providers, settings",
)
def update_event(event_id: ResourceId, payload: EventUpdateRequest, call: Writer) -> Response:
    check_id(payload.data.id, event_id)
    changes = changes_of(payload.data.attributes, nullable={"date_from", "date_to"})
    with call.unit() as tx:
        event = service.update_event(tx.session, access.event(tx, event_id, admin=True), changes, actor=tx.actor)
        return tx.respond(JSONAPIResponse(document(event_resource(event))))


@router.get("/v1/events/{event_id}/products", response_model=ProductListDocument, responses=READ_ERRORS)
def list_products(
    request: Request, event_id: ResourceId, call: Reader, query: Annotated[Query, Depends(PRODUCTS)]
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        statement = select(Product).where(Product.event_id == event.id).options(selectinload(Product.quotas))
        page = page_of(tx.session, statement, query, {"position": Product.position, "name": Product.name}, Product.id)
        fields = query.fields_for("products")
        data = [product_resource(p, event, fields) for p in page.items]
        return JSONAPIResponse(collection_document(request, page, data))


@router.get("/v1/events/{event_id}/quotas", response_model=QuotaListDocument, responses=READ_ERRORS)
def list_quotas(
    request: Request, event_id: ResourceId, call: Reader, query: Annotated[Query, Depends(QUOTAS)]
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        statement = select(Quota).where(Quota.event_id == event.id).options(selectinload(Quota.products))
        page = page_of(tx.session, statement, query, {"name": Quota.name}, Quota.id)
        fields = query.fields_for("quotas")
        return JSONAPIResponse(collection_document(request, page, [quota_resource(q, fields) for q in page.items]))


# -- products --------------------------------------------------------------------------------------


@router.post("/v1/products", status_code=201, response_model=ProductDocument, responses=ACTION_ERRORS)
def create_product(payload: ProductCreateRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    attrs = data.attributes
    pointer = "/data/relationships/event/data/id"
    event_id = related_id(data.relationships.event.data.id, "Event", pointer)
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True, pointer=pointer)
        quotas = _quotas_of(tx, event, data.relationships.quotas)
        price = money(attrs.price, event.currency, pointer="/data/attributes/price")
        details = attrs.model_dump(
            include={"active", "position", "description", "available_from", "available_until", "max_per_order"},
            by_alias=False,
        )
        product = service.create_product(
            tx.session, event, name=attrs.name, price=price, quotas=quotas, details=details, actor=tx.actor
        )
        headers = {"Location": f"/v1/products/{product.id}"}
        return tx.respond(JSONAPIResponse(document(product_resource(product, event)), status_code=201, headers=headers))


@router.get("/v1/products/{product_id}", response_model=ProductDocument, responses=READ_ERRORS)
def get_product(product_id: ResourceId, call: Reader, query: Annotated[Query, Depends(PRODUCT)]) -> Response:
    with call.unit() as tx:
        product, event = access.product(tx, product_id)
        return JSONAPIResponse(document(product_resource(product, event, query.fields_for("products"))))


@router.patch("/v1/products/{product_id}", response_model=ProductDocument, responses=ACTION_ERRORS)
def update_product(product_id: ResourceId, payload: ProductUpdateRequest, call: Writer) -> Response:
    check_id(payload.data.id, product_id)
    changes = changes_of(
        payload.data.attributes, nullable={"available_from", "available_until", "max_per_order", "description"}
    )
    with call.unit() as tx:
        product, event = access.product(tx, product_id, admin=True)
        if "price" in changes:
            changes["price"] = money(changes["price"], event.currency, pointer="/data/attributes/price")
        if "quotas" in payload.data.relationships.model_fields_set:
            changes["quotas"] = _quotas_of(tx, event, payload.data.relationships.quotas)
        product = service.update_product(tx.session, product, event, changes, actor=tx.actor)
        return tx.respond(JSONAPIResponse(document(product_resource(product, event))))


# -- quotas ----------------------------------------------------------------------------------------


@router.post("/v1/quotas", status_code=201, response_model=QuotaDocument, responses=ACTION_ERRORS)
def create_quota(payload: QuotaCreateRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    pointer = "/data/relationships/event/data/id"
    event_id = related_id(data.relationships.event.data.id, "Event", pointer)
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True, pointer=pointer)
        quota = service.create_quota(
            tx.session, event, name=data.attributes.name, size=data.attributes.size, actor=tx.actor
        )
        headers = {"Location": f"/v1/quotas/{quota.id}"}
        return tx.respond(JSONAPIResponse(document(quota_resource(quota)), status_code=201, headers=headers))


@router.get("/v1/quotas/{quota_id}", response_model=QuotaDocument, responses=READ_ERRORS)
def get_quota(quota_id: ResourceId, call: Reader, query: Annotated[Query, Depends(QUOTA)]) -> Response:
    with call.unit() as tx:
        quota, _ = access.quota(tx, quota_id)
        return JSONAPIResponse(document(quota_resource(quota, query.fields_for("quotas"))))


@router.patch("/v1/quotas/{quota_id}", response_model=QuotaDocument, responses=ACTION_ERRORS)
def update_quota(quota_id: ResourceId, payload: QuotaUpdateRequest, call: Writer) -> Response:
    check_id(payload.data.id, quota_id)
    changes = changes_of(payload.data.attributes, nullable={"size"})
    with call.unit() as tx:
        quota, event = access.quota(tx, quota_id, admin=True)
        quota = service.change_quota(tx.session, quota, event, changes, actor=tx.actor)
        return tx.respond(JSONAPIResponse(document(quota_resource(quota))))
