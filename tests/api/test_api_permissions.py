"""Every endpoint and every kind of caller, with the exact status each must get.

Callers: anonymous, the buyer of order A, the buyer of order B, staff of organizer X, an admin of X,
an admin of organizer Y — each in a world of its own (``make_world``), so what an allowed request
changes is never what the next caller meets. Everything targets organizer X's data (order A, its payments and refunds,
X's event). Another organizer's resources are 404, never 403 (see ``boxoffice.api.access``). An
allowed POST is sent with an Idempotency-Key and sent again: the second answer is the first,
replayed. A refused request changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from boxoffice.jobs.service import create_job
from boxoffice.kit import clock
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.orders.service import expire_order, mark_paid
from boxoffice.payments import service as payments
from boxoffice.payments.models import Payment, Refund

CALLERS = ("anonymous", "buyer_a", "buyer_b", "staff_x", "admin_x", "admin_y")
Setup = Callable[[Any, Any], dict[str, int]]  # (uow, world) -> ids the path and document use


def _pending_payment(uow: Any, world: Any) -> dict[str, int]:
    with uow() as s:
        payment = payments.start_payment(s, world.order_a, provider="manual", actor="test")
        payments.set_payment_pending(s, payment.id, actor="test")
        return {"payment": payment.id}


def _paid(uow: Any, world: Any) -> dict[str, int]:
    with uow() as s:
        mark_paid(s, world.order_a, actor="test")
        payment_id = s.execute(select(Payment.id).where(Payment.order_id == world.order_a)).scalar_one()
        return {"payment": payment_id}


def _created_refund(uow: Any, world: Any) -> dict[str, int]:
    ids = _paid(uow, world)
    with uow() as s:
        refund = payments.create_refund(s, ids["payment"], amount=Decimal("10.00"), actor="test", provider="manual")
        return {**ids, "refund": refund.id}


def _external_refund(uow: Any, world: Any) -> dict[str, int]:
    ids = _paid(uow, world)
    with uow() as s:
        refund = payments.create_external_refund(
            s, world.order_a, amount=Decimal("49.00"), actor="test", provider="manual", payment_id=ids["payment"]
        )
        return {**ids, "refund": refund.id}


def _expired(uow: Any, world: Any) -> dict[str, int]:
    clock.travel(4 * 24 * 3600)
    try:
        with uow() as s:
            assert expire_order(s, world.order_a)
    finally:
        clock.travel(0)
    return {}


def _position(uow: Any, world: Any) -> dict[str, int]:
    with uow() as s:
        return {"position": s.get(Order, world.order_a).positions[0].id}


def _job(uow: Any, world: Any) -> dict[str, int]:
    with uow() as s:
        return {"job": create_job(s, "test", created_by="test", organizer_id=world.organizer_x).id}


def _nothing(uow: Any, world: Any) -> dict[str, int]:
    return {}


def _in_a_week() -> str:
    return (clock.now() + timedelta(days=7)).isoformat()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # formatted with the world's ids and the setup's
    expected: tuple[int, int, int, int, int, int]  # in the order of CALLERS
    setup: Setup = _nothing
    doc: Callable[[Any, dict[str, int]], dict[str, Any] | None] = lambda world, ids: None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


# Expected statuses, in the order: anonymous, buyer A, buyer B, staff X, admin X, admin Y.
LIST = (401, 403, 403, 200, 200, 200)  # an organizer collection (each sees only its own)
TEAM_READ = (401, 404, 404, 200, 200, 404)  # X's catalogue, jobs
ORDER_READ = (401, 200, 404, 200, 200, 404)  # order A and what belongs to it
TEAM_ONLY_OF_ORDER = (401, 403, 404, 200, 200, 404)  # order A's, but for the team only
ADMIN_OF_ORDER = (401, 403, 404, 403, 200, 404)
ADMIN_CREATE_OF_ORDER = (401, 403, 404, 403, 201, 404)
ADMIN_CATALOGUE = (401, 404, 404, 403, 200, 404)
ADMIN_CATALOGUE_CREATE = (401, 404, 404, 403, 201, 404)


def _login(world: Any, ids: dict[str, int]) -> dict[str, Any]:
    return {"email": f"admin@{world.name}-x.example", "password": "correct horse battery"}


def _new_password(world: Any, ids: dict[str, int]) -> dict[str, Any]:
    return {"current_password": "correct horse battery", "new_password": "a longer horse battery"}


ENDPOINTS = [
    Endpoint("POST", "/v1/auth/session", (200,) * 6, doc=_login),
    Endpoint("DELETE", "/v1/auth/session", (401, 403, 403, 204, 204, 204)),
    Endpoint("POST", "/v1/auth/password", (401, 403, 403, 200, 200, 200), doc=_new_password),
    Endpoint("POST", "/v1/orders", (201,) * 6, doc=lambda world, ids: world.order_document()),
    Endpoint("GET", "/v1/orders", LIST),
    Endpoint("GET", "/v1/orders/{order_a}", ORDER_READ),
    Endpoint("GET", "/v1/orders/{order_a}/positions", ORDER_READ),
    Endpoint("GET", "/v1/order-positions/{position}", ORDER_READ, _position),
    Endpoint("GET", "/v1/orders/{order_a}/payments", ORDER_READ),
    Endpoint("GET", "/v1/orders/{order_a}/refunds", ORDER_READ),
    Endpoint("GET", "/v1/orders/{order_a}/audit-entries", TEAM_ONLY_OF_ORDER),
    Endpoint("GET", "/v1/payments/{payment}", ORDER_READ, _pending_payment),
    Endpoint("GET", "/v1/refunds/{refund}", ORDER_READ, _created_refund),
    Endpoint(
        "POST",
        "/v1/orders/{order_a}/charge",
        (401, 200, 404, 200, 200, 404),
        doc=lambda world, ids: world.charge_document("4242424242424242"),
    ),
    Endpoint(
        "POST",
        "/v1/orders/{order_a}/payments",
        (401, 201, 404, 201, 201, 404),
        doc=lambda world, ids: {"data": {"type": "payments", "attributes": {"provider": "manual"}}},
    ),
    Endpoint("POST", "/v1/orders/{order_a}/mark-paid", TEAM_ONLY_OF_ORDER),
    Endpoint(
        "POST",
        "/v1/orders/{order_a}/extend",
        TEAM_ONLY_OF_ORDER,
        doc=lambda world, ids: {"data": {"type": "order-extend", "attributes": {"expires-at": _in_a_week()}}},
    ),
    Endpoint("POST", "/v1/orders/{order_a}/reactivate", TEAM_ONLY_OF_ORDER, _expired),
    Endpoint(
        "POST",
        "/v1/orders/{order_a}/cancel",
        ADMIN_OF_ORDER,
        _paid,
        doc=lambda world, ids: {"data": {"type": "order-cancel", "attributes": {"cancellation-fee": "5.00"}}},
    ),
    Endpoint(
        "POST",
        "/v1/orders/{order_a}/change",
        ADMIN_OF_ORDER,
        _paid,
        doc=lambda world, ids: {
            "data": {
                "type": "order-changes",
                "attributes": {"add": [{"product": str(world.shop.student_id), "quantity": 1}]},
            }
        },
    ),
    Endpoint(
        "POST",
        "/v1/events/{event}/cancel",
        (401, 404, 404, 403, 202, 404),
        _paid,
        doc=lambda world, ids: {"data": {"type": "event-cancellations", "attributes": {"cancellation-fee": "1.00"}}},
    ),
    Endpoint("POST", "/v1/payments/{payment}/confirm", TEAM_ONLY_OF_ORDER, _pending_payment),
    Endpoint("POST", "/v1/payments/{payment}/cancel", TEAM_ONLY_OF_ORDER, _pending_payment),
    Endpoint(
        "POST",
        "/v1/payments/{payment}/refund",
        ADMIN_CREATE_OF_ORDER,
        _paid,
        doc=lambda world, ids: {"data": {"type": "refunds", "attributes": {"amount": "9.00"}}},
    ),
    Endpoint(
        "POST",
        "/v1/orders/{order_a}/refunds",
        ADMIN_CREATE_OF_ORDER,
        _paid,
        doc=lambda world, ids: {"data": {"type": "refunds", "attributes": {"amount": "9.00", "mark-refunded": True}}},
    ),
    Endpoint("POST", "/v1/refunds/{refund}/done", ADMIN_OF_ORDER, _created_refund),
    Endpoint("POST", "/v1/refunds/{refund}/cancel", ADMIN_OF_ORDER, _created_refund),
    Endpoint(
        "POST",
        "/v1/refunds/{refund}/process",
        ADMIN_OF_ORDER,
        _external_refund,
        doc=lambda world, ids: {"data": {"type": "refund-process", "attributes": {"then": "cancel"}}},
    ),
    Endpoint("GET", "/v1/organizers", LIST),
    Endpoint("GET", "/v1/organizers/{organizer_x}", TEAM_READ),
    Endpoint("GET", "/v1/events", LIST),
    Endpoint("GET", "/v1/events/{event}", TEAM_READ),
    Endpoint(
        "POST",
        "/v1/events",
        ADMIN_CATALOGUE_CREATE,
        doc=lambda world, ids: {
            "data": {
                "type": "events",
                "attributes": {"name": "Second", "slug": "second", "currency": "EUR"},
                "relationships": {"organizer": {"data": {"type": "organizers", "id": str(world.organizer_x)}}},
            }
        },
    ),
    Endpoint(
        "PATCH",
        "/v1/events/{event}",
        ADMIN_CATALOGUE,
        doc=lambda world, ids: {
            "data": {"type": "events", "id": str(world.shop.event_id), "attributes": {"name": "Renamed"}}
        },
    ),
    Endpoint("GET", "/v1/events/{event}/products", TEAM_READ),
    Endpoint("GET", "/v1/events/{event}/quotas", TEAM_READ),
    Endpoint(
        "POST",
        "/v1/products",
        ADMIN_CATALOGUE_CREATE,
        doc=lambda world, ids: {
            "data": {
                "type": "products",
                "attributes": {"name": "VIP", "price": "99.00"},
                "relationships": {"event": {"data": {"type": "events", "id": str(world.shop.event_id)}}},
            }
        },
    ),
    Endpoint("GET", "/v1/products/{product}", TEAM_READ),
    Endpoint(
        "PATCH",
        "/v1/products/{product}",
        ADMIN_CATALOGUE,
        doc=lambda world, ids: {
            "data": {"type": "products", "id": str(world.shop.regular_id), "attributes": {"price": "59.00"}}
        },
    ),
    Endpoint(
        "POST",
        "/v1/quotas",
        ADMIN_CATALOGUE_CREATE,
        doc=lambda world, ids: {
            "data": {
                "type": "quotas",
                "attributes": {"name": "Workshop", "size": 20},
                "relationships": {"event": {"data": {"type": "events", "id": str(world.shop.event_id)}}},
            }
        },
    ),
    Endpoint("GET", "/v1/quotas/{quota}", TEAM_READ),
    Endpoint(
        "PATCH",
        "/v1/quotas/{quota}",
        ADMIN_CATALOGUE,
        doc=lambda world, ids: {
            "data": {"type": "quotas", "id": str(world.shop.quota_id), "attributes": {"size": 150}}
        },
    ),
    Endpoint("GET", "/v1/jobs/{job}", TEAM_READ, _job),
]


def _snapshot(uow: Any) -> tuple[Any, ...]:
    """What any change of an order, payment or refund would show in (the audit log is written for each)."""
    with uow() as s:
        return (
            s.execute(select(func.count(AuditEntry.id))).scalar_one(),
            s.execute(select(func.count(Payment.id))).scalar_one(),
            s.execute(select(func.count(Refund.id))).scalar_one(),
            tuple(s.execute(select(Order.id, Order.status, Order.expires_at).order_by(Order.id)).all()),
        )


def _run_cell(api: Any, world: Any, uow: Any, endpoint: Endpoint, caller: str, status: int) -> str | None:
    """Send the request as ``caller`` and check the answer; what went wrong, or None."""
    ids = endpoint.setup(uow, world)
    values = {
        "order_a": world.order_a,
        "organizer_x": world.organizer_x,
        "event": world.shop.event_id,
        "product": world.shop.regular_id,
        "quota": world.shop.quota_id,
        **ids,
    }
    path = endpoint.path.format(**values)
    doc = endpoint.doc(world, ids)
    key = api.new_key() if endpoint.method == "POST" else None
    before = _snapshot(uow)

    response = api.request(endpoint.method, path, doc=doc, headers=world.headers(caller), key=key)

    if response.status_code != status:
        return f"{caller}: {response.status_code} instead of {status}: {response.text[:300]}"
    if path.startswith("/v1/auth/") and status < 400:
        # Not JSON:API, and never replayed (a stored answer would be a live credential):
        # exactly {"access_token": ...}, or nothing after logging out.
        assert set(response.json()) == {"access_token"} if status == 200 else not response.content
        return None
    first = api.expect(response, status)
    if status >= 400:
        assert first["errors"][0]["status"] == str(status)
        if _snapshot(uow) != before:
            return f"{caller}: the refused request changed something"
    elif key is not None:
        again = api.request(endpoint.method, path, doc=doc, headers=world.headers(caller), key=key)
        if again.status_code != status or again.headers.get("Idempotent-Replayed") != "true" or again.json() != first:
            return f"{caller}: the same request with the same Idempotency-Key was not the first answer replayed"
    return None


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_each_caller_gets_exactly_its_status(api: Any, make_world: Any, uow: Any, endpoint: Endpoint) -> None:
    # A fresh world per caller: an allowed request must not change what the next caller meets.
    wrong = [
        problem
        for caller, status in zip(CALLERS, endpoint.expected, strict=True)
        if (problem := _run_cell(api, make_world(), uow, endpoint, caller, status)) is not None
    ]
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_endpoint_of_these_routers(app: Any) -> None:
    tags = {"auth", "catalogue", "orders", "payments", "refunds", "jobs"}
    operations = {
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if tags & set(operation.get("tags", ()))
    }

    def shape(name: str) -> str:
        return re.sub(r"{[a-z_]+}", "{id}", name)

    assert {shape(o) for o in operations} == {shape(e.name) for e in ENDPOINTS}
