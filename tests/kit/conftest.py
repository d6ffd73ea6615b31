"""A tiny JSON:API app built with boxoffice.kit, shared by the tests/kit/test_jsonapi_*.py files.

It has the shapes real endpoints have: create with attributes and relationships, a list with
includes, sparse fieldsets, sorting, filters and numbered pagination, a keyset-paginated list,
a PATCH, an action without a body, a singular ``charge`` type, a provider webhook outside the
JSON:API rules, and endpoints that fail in each way an endpoint can.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace
from typing import Annotated, Any, Literal

import pytest
from fastapi import Depends, FastAPI, Form, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from boxoffice.errors import Conflict, NotFound
from boxoffice.kit.http import JSONAPIResponse, error_responses, install
from boxoffice.kit.jsonapi import (
    Includer,
    document,
    rel_to_many,
    rel_to_one,
    resource_object,
)
from boxoffice.kit.pagination import Page, pagination_links
from boxoffice.kit.query import Query, QuerySpec, boolean, one_of
from boxoffice.kit.schemas import (
    Attributes,
    DecimalString,
    Relationships,
    ToMany,
    ToOne,
    check_id,
    list_response_model,
    resource_request_model,
    resource_response_model,
)


class Status(StrEnum):
    PENDING = "pending"
    PAID = "paid"


# -- a small in-memory world ---------------------------------------------------------------------------

T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
EVENTS = {"1": {"name": "Demo Conf", "slug": "demo-conf", "currency": "EUR"}}
ORDERS: dict[str, dict[str, Any]] = {
    str(i): {
        "code": f"C{i:04d}",
        "email": f"buyer{i}@example.org",
        "status": Status.PAID if i % 3 == 0 else Status.PENDING,
        "total": Decimal("49.00") * i,
        "payment_state": "paid" if i % 3 == 0 else "unpaid",
        "expires_at": T0 + timedelta(hours=i),
        "event": "1",
        "payments": [str(i)] if i % 3 == 0 else [],
    }
    for i in range(1, 31)
}
PAYMENTS = [
    {"id": str(i), "amount": Decimal("49.00"), "created_at": T0 + timedelta(minutes=i // 2)} for i in range(1, 31)
]


# -- schemas -------------------------------------------------------------------------------------------


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str
    quantity: int = Field(ge=1)


class OrderCreateAttributes(Attributes):
    """What a buyer sends to place an order."""

    email: str
    payment_mode: str
    positions: list[PositionIn]
    donation: DecimalString | None = None


class OrderCreateRelationships(Relationships):
    event: ToOne[Literal["events"]]
    vouchers: ToMany[Literal["vouchers"]] | None = None


class OrderUpdateAttributes(Attributes):
    email: str | None = None


class ChargeAttributes(Attributes):
    sandbox: str | None = None


class OrderAttributes(Attributes):
    """An order as the API shows it."""

    code: str
    email: str
    status: Literal["pending", "paid", "expired", "canceled"]
    total: DecimalString
    payment_state: str
    expires_at: datetime


class EventAttributes(Attributes):
    name: str
    slug: str
    currency: str


OrderCreateRequest = resource_request_model("orders", OrderCreateAttributes, OrderCreateRelationships)
OrderUpdateRequest = resource_request_model("orders", OrderUpdateAttributes, id_required=True)
ChargeRequest = resource_request_model(("charge", "charges"), ChargeAttributes)
OrderDocument = resource_response_model("orders", OrderAttributes, ["event", "payments"])
OrderListDocument = list_response_model(OrderDocument)
EventDocument = resource_response_model("events", EventAttributes)

ORDER_FIELDS = {"code", "email", "status", "total", "payment-state", "expires-at", "event", "payments"}
ORDERS_QUERY = QuerySpec(
    "orders",
    include={"event", "payments"},
    fields={"orders": ORDER_FIELDS, "events": {"name", "slug", "currency"}, "payments": {"amount"}},
    sort={"code", "total", "expires-at"},
    default_sort="code",
    filters={"status": one_of("pending", "paid", "expired", "canceled"), "paid": boolean},
)
ORDER_QUERY = QuerySpec("orders", include={"event", "payments"}, fields={"orders": ORDER_FIELDS})
PAYMENTS_QUERY = QuerySpec("payments", sort={"created-at"}, default_sort="created-at", cursor=True)


# -- documents -----------------------------------------------------------------------------------------


def order_resource(order_id: str, fields: frozenset[str] | None = None) -> dict[str, Any]:
    order = ORDERS[order_id]
    attributes = {k: v for k, v in order.items() if k not in ("event", "payments")}
    return resource_object(
        "orders",
        order_id,
        attributes,
        {
            "event": rel_to_one("events", order["event"], f"/v1/events/{order['event']}"),
            "payments": rel_to_many("payments", order["payments"], f"/v1/orders/{order_id}/payments"),
        },
        links={"self": f"/v1/orders/{order_id}"},
        fields=fields,
    )


def include_related(includer: Includer, order_ids: list[str], query: Query) -> None:
    for order_id in order_ids:
        order = ORDERS[order_id]
        if query.includes("event"):
            includer.add(
                resource_object("events", order["event"], EVENTS[order["event"]], fields=query.fields_for("events"))
            )
        if query.includes("payments"):
            for payment_id in order["payments"]:
                payment = PAYMENTS[int(payment_id) - 1]
                includer.add(resource_object("payments", payment_id, {"amount": payment["amount"]}))


def known(order_id: str) -> dict[str, Any]:
    if order_id not in ORDERS:
        raise NotFound(f"There is no order {order_id}.")
    return ORDERS[order_id]


# -- the app -------------------------------------------------------------------------------------------


def build_app() -> FastAPI:
    app = FastAPI(title="kit test app", default_response_class=JSONAPIResponse)
    install(app, form_prefixes=("/v1/forms/",))

    @app.get("/healthz", response_class=JSONAPIResponse)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/orders", status_code=201, response_model=OrderDocument, responses=error_responses(409, 422))
    def create_order(payload: OrderCreateRequest) -> JSONAPIResponse:  # type: ignore[valid-type]
        data = payload.data  # type: ignore[attr-defined]
        order_id = str(len(ORDERS) + 1)
        ORDERS[order_id] = {
            "code": "NEW01",
            "email": data.attributes.email,
            "status": Status.PENDING,
            "total": sum((Decimal("49.00") * p.quantity for p in data.attributes.positions), Decimal("0.00"))
            + (data.attributes.donation or 0),
            "payment_state": "unpaid",
            "expires_at": T0,
            "event": data.relationships.event.data.id,
            "payments": [],
        }
        body = document(order_resource(order_id), meta={"access-token": "t0k3n"})
        del ORDERS[order_id]
        return JSONAPIResponse(body, status_code=201, headers={"Location": f"/v1/orders/{order_id}"})

    @app.get("/v1/orders", response_model=OrderListDocument)
    def list_orders(request: Request, query: Annotated[Query, Depends(ORDERS_QUERY)]) -> JSONAPIResponse:
        ids = list(ORDERS)
        if "status" in query.filters:
            ids = [i for i in ids if ORDERS[i]["status"] == query.filters["status"]]
        for key in reversed(query.sort):
            ids.sort(key=lambda i, k=key.name.replace("-", "_"): ORDERS[i][k], reverse=key.descending)
        page_ids = ids[query.page.offset : query.page.offset + query.page.size]
        page = Page.counted(page_ids, query.page, total=len(ids))
        data = [order_resource(i, query.fields_for("orders")) for i in page.items]
        includer = Includer(primary=data) if query.include else None
        if includer is not None:
            include_related(includer, page_ids, query)
        links = pagination_links(request, page)
        return JSONAPIResponse(document(data, included=includer, links=links, meta=page.meta()))

    @app.get("/v1/orders/{order_id}", response_model=OrderDocument, responses=error_responses(404))
    def get_order(order_id: str, query: Annotated[Query, Depends(ORDER_QUERY)]) -> JSONAPIResponse:
        known(order_id)
        data = order_resource(order_id, query.fields_for("orders"))
        includer = Includer(primary=data)
        include_related(includer, [order_id], query)
        return JSONAPIResponse(document(data, included=includer if query.include else None))

    @app.patch("/v1/orders/{order_id}", response_model=OrderDocument)
    def update_order(order_id: str, payload: OrderUpdateRequest) -> JSONAPIResponse:  # type: ignore[valid-type]
        check_id(payload.data.id, order_id)  # type: ignore[attr-defined]
        known(order_id)
        return JSONAPIResponse(document(order_resource(order_id)))

    @app.post("/v1/orders/{order_id}/cancel", response_model=OrderDocument)
    def cancel_order(order_id: str) -> JSONAPIResponse:
        if known(order_id)["status"] == Status.PAID:
            raise Conflict("A paid order must be refunded first.", code="order-paid")
        return JSONAPIResponse(document(order_resource(order_id)))

    @app.post("/v1/orders/{order_id}/charge")
    def charge(order_id: int, payload: ChargeRequest) -> JSONAPIResponse:  # type: ignore[valid-type]
        attrs = payload.data.attributes  # type: ignore[attr-defined]
        ok = attrs.sandbox == "4242424242424242"
        return JSONAPIResponse(
            document(resource_object("charge", order_id, {"status": ok, "message": "paid" if ok else "declined"}))
        )

    @app.get("/v1/payments")
    def list_payments(request: Request, query: Annotated[Query, Depends(PAYMENTS_QUERY)]) -> JSONAPIResponse:
        rows = sorted(PAYMENTS, key=lambda p: (p["created_at"], int(p["id"])))
        if query.page.cursor is not None:
            after = (query.page.cursor[0], int(query.page.cursor[1]))
            rows = [p for p in rows if (p["created_at"], int(p["id"])) > after]
        page = Page.from_rows(
            rows[: query.page.limit],
            query.page,
            key=lambda p: (p["created_at"], p["id"]),
            sort=query.sort_param,
        )
        data = [
            resource_object("payments", p["id"], {"amount": p["amount"], "created_at": p["created_at"]})
            for p in page.items
        ]
        return JSONAPIResponse(document(data, links=pagination_links(request, page)))

    @app.get("/v1/events/{event_id}", response_model=EventDocument)
    def get_event(event_id: int) -> JSONAPIResponse:
        if str(event_id) not in EVENTS:
            raise NotFound(f"There is no event {event_id}.")
        return JSONAPIResponse(document(resource_object("events", event_id, EVENTS[str(event_id)])))

    @app.get("/v1/boom")
    def boom() -> JSONAPIResponse:
        raise RuntimeError("database password is hunter2")

    @app.post("/v1/webhooks/sandbox")
    async def webhook(request: Request) -> JSONAPIResponse:
        return JSONAPIResponse({"meta": {"received": len(await request.body())}})

    @app.post("/v1/forms/login")
    def form_login(email: Annotated[str, Form()]) -> JSONAPIResponse:
        return JSONAPIResponse({"meta": {"email": email}})

    return app


@pytest.fixture(scope="session")
def jsonapi_app() -> FastAPI:
    return build_app()


@pytest.fixture(scope="session")
def jsonapi_client(jsonapi_app: FastAPI) -> TestClient:
    """A client that answers server errors with responses instead of raising them."""
    return TestClient(jsonapi_app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def jsonapi_models() -> SimpleNamespace:
    """The app's request models, for tests that validate documents directly."""
    return SimpleNamespace(OrderCreateRequest=OrderCreateRequest, OrderCreateAttributes=OrderCreateAttributes)
