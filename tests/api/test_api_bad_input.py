"""Bad input gets the right 4xx as a JSON:API error pointing at the culprit — never a 500 — and changes
nothing. Another organizer's ids are 404, exactly like ids that do not exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from boxoffice.catalogue.models import Event, Product, Quota
from boxoffice.orders.models import AuditEntry, Order
from boxoffice.payments.models import Payment

ORDERS = "/v1/orders"


def _state(uow: Any) -> tuple[Any, ...]:
    with uow() as s:
        return (
            s.execute(select(func.count(AuditEntry.id))).scalar_one(),
            s.execute(select(func.count(Payment.id))).scalar_one(),
            tuple(s.execute(select(Order.status, Order.total, Order.expires_at).order_by(Order.id)).all()),
            tuple(s.execute(select(Event.name, Event.payment_providers, Event.settings).order_by(Event.id)).all()),
            tuple(s.execute(select(Product.price, Product.name).order_by(Product.id)).all()),
            tuple(s.execute(select(Quota.size, Quota.used).order_by(Quota.id)).all()),
        )


def _send(api: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return api.client.request(
        method, path, content=body, headers={"Content-Type": "application/vnd.api+json", **headers}
    )


def _with(doc: dict[str, Any], change: Any) -> bytes:
    copy = json.loads(json.dumps(doc))
    change(copy)
    return json.dumps(copy).encode()


def _cases(world: Any) -> list[tuple[str, str, str, bytes, int, str | None, str | None]]:
    """(caller, method, path, body, status, code, source pointer or parameter)."""
    order = world.order_document()
    a = f"/v1/orders/{world.order_a}"
    cancel = f"{a}/cancel"

    def fee(value: Any) -> bytes:
        return json.dumps({"data": {"type": "order-cancel", "attributes": {"cancellation-fee": value}}}).encode()

    def attrs(**values: Any) -> Any:
        return lambda d: d["data"]["attributes"].update(values)

    event = f"/v1/events/{world.shop.event_id}"

    def patch_event(attributes: dict[str, Any]) -> bytes:
        return json.dumps(
            {"data": {"type": "events", "id": str(world.shop.event_id), "attributes": attributes}}
        ).encode()

    return [
        ("anonymous", "POST", ORDERS, b'{"data": {', 400, "invalid-json", None),
        ("anonymous", "POST", ORDERS, b"[]", 400, "not-a-document", None),
        ("anonymous", "POST", ORDERS, b"", 400, "missing-body", None),
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, attrs(colour="red")),
            422,
            "unknown-member",
            "/data/attributes/colour",
        ),
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, lambda d: d["data"].update(type="carts")),
            409,
            "type-mismatch",
            "/data/type",
        ),
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, lambda d: d["data"]["relationships"]["event"]["data"].update(type="products")),
            422,
            "invalid-choice",
            "/data/relationships/event/data/type",
        ),
        ("anonymous", "POST", ORDERS, _with(order, lambda d: d["data"].update(id="1")), 403, None, "/data/id"),
        ("anonymous", "POST", ORDERS, _with(order, attrs(positions=[])), 422, None, "/data/attributes/positions"),
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, attrs(positions=[{"product": "1", "quantity": "2"}])),
            422,
            None,
            "/data/attributes/positions/0/quantity",
        ),
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, attrs(positions=[{"product": "1", "quantity": 101}])),
            422,
            None,
            "/data/attributes/positions/0/quantity",
        ),
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, attrs(positions=[{"product": "one", "quantity": 1}])),
            404,
            None,
            "/data/attributes/positions/0/product",
        ),
        ("anonymous", "POST", ORDERS, _with(order, attrs(email="not an address")), 422, None, "/data/attributes/email"),
        ("admin_x", "POST", cancel, fee("5,00"), 422, "invalid-decimal", "/data/attributes/cancellation-fee"),
        ("admin_x", "POST", cancel, fee("1e3"), 422, "invalid-decimal", "/data/attributes/cancellation-fee"),
        ("admin_x", "POST", cancel, fee(5.0), 422, "invalid-decimal", "/data/attributes/cancellation-fee"),
        ("admin_x", "POST", cancel, fee("5.001"), 422, "too-precise", "/data/attributes/cancellation-fee"),
        ("admin_x", "POST", cancel, fee("-1"), 422, "negative-amount", "/data/attributes/cancellation-fee"),
        (
            "admin_x",
            "POST",
            f"{a}/extend",
            b'{"data": {"type": "order-extend", "attributes": {"expires-at": 1}}}',
            422,
            None,
            "/data/attributes/expires-at",
        ),
        (
            "admin_x",
            "POST",
            f"{a}/extend",
            b'{"data": {"type": "order-extend", "attributes": {"expires-at": "2030-01-01T00:00:00"}}}',
            422,
            None,
            "/data/attributes/expires-at",
        ),
        ("admin_x", "PATCH", event, patch_event({"name": None}), 422, None, "/data/attributes/name"),
        (
            "admin_x",
            "PATCH",
            event,
            patch_event({"payment-providers": {"bitcoin": {"enabled": True}}}),
            422,
            "unknown-provider",
            "/data/attributes/payment-providers/bitcoin",
        ),
        (
            "admin_x",
            "PATCH",
            event,
            patch_event({"payment-providers": {"sandbox": {"fee-abs": "0.001"}}}),
            422,
            "invalid-setting",
            "/data/attributes/payment-providers/sandbox/fee-abs",
        ),
        (
            "admin_x",
            "PATCH",
            event,
            patch_event({"settings": {"expiry-minute": 30}}),
            422,
            "unknown-setting",
            "/data/attributes/settings/expiry-minute",
        ),
        (
            "admin_x",
            "PATCH",
            event,
            patch_event({"settings": {"expiry-minutes": "30"}}),
            422,
            "invalid-setting",
            "/data/attributes/settings/expiry-minutes",
        ),
        (
            "admin_x",
            "PATCH",
            event,
            patch_event({"currency": "USD"}),
            409,
            "currency-locked",
            "/data/attributes/currency",
        ),
        ("admin_x", "PATCH", event, patch_event({"timezone": "Mars/Olympus"}), 422, None, "/data/attributes/timezone"),
        (
            "admin_x",
            "PATCH",
            event,
            json.dumps({"data": {"type": "events", "id": "1234", "attributes": {}}}).encode(),
            409,
            "id-mismatch",
            "/data/id",
        ),
        (
            "admin_x",
            "PATCH",
            f"/v1/quotas/{world.shop.quota_id}",
            json.dumps(
                {"data": {"type": "quotas", "id": str(world.shop.quota_id), "attributes": {"size": 1}}}
            ).encode(),
            409,
            "quota-in-use",
            "/data/attributes/size",
        ),
        (
            "admin_x",
            "PATCH",
            f"/v1/products/{world.shop.regular_id}",
            json.dumps(
                {
                    "data": {
                        "type": "products",
                        "id": str(world.shop.regular_id),
                        "relationships": {"quotas": {"data": []}},
                    }
                }
            ).encode(),
            409,
            "product-has-orders",
            "/data/relationships/quotas",
        ),
        ("admin_x", "POST", cancel, fee("1000000000000"), 422, "amount-too-large", "/data/attributes/cancellation-fee"),
        (
            "admin_x",
            "POST",
            f"{a}/extend",
            b'{"data": {"type": "order-extend", "attributes": {"expires-at": "9999-12-31T23:00:00-05:00"}}}',
            422,
            None,
            "/data/attributes/expires-at",
        ),
        # Text the database cannot store.
        (
            "anonymous",
            "POST",
            ORDERS,
            _with(order, attrs(email="a\u0000@example.org")),
            422,
            "invalid-character",
            "/data/attributes/email",
        ),
        ("admin_x", "GET", ORDERS + "?filter[email]=%00", b"", 400, "invalid-character", "filter[email]"),
        # Another organizer's resources do not exist for admin Y.
        ("admin_y", "GET", a, b"", 404, "not-found", "id"),
        ("admin_y", "POST", f"{a}/mark-paid", b"", 404, "not-found", "id"),
        ("admin_y", "PATCH", event, patch_event({"name": "Mine now"}), 404, "not-found", "id"),
        (
            "admin_y",
            "POST",
            "/v1/quotas",
            json.dumps(
                {
                    "data": {
                        "type": "quotas",
                        "attributes": {"name": "Q", "size": 1},
                        "relationships": {"event": {"data": {"type": "events", "id": str(world.shop.event_id)}}},
                    }
                }
            ).encode(),
            404,
            "not-found",
            "/data/relationships/event/data/id",
        ),
        # Query parameters.
        ("admin_x", "GET", ORDERS + "?page[size]=101", b"", 400, "page-size-too-large", "page[size]"),
        ("admin_x", "GET", ORDERS + "?page[number]=0", b"", 400, "invalid-page-number", "page[number]"),
        ("admin_x", "GET", ORDERS + "?filter[colour]=red", b"", 400, "unknown-filter", "filter[colour]"),
        ("admin_x", "GET", ORDERS + "?filter[status]=lost", b"", 400, "invalid-filter", "filter[status]"),
        ("admin_x", "GET", ORDERS + "?include=organizer", b"", 400, "unsupported-include", "include"),
        ("admin_x", "GET", ORDERS + "?sort=email", b"", 400, "unsupported-sort", "sort"),
        ("admin_x", "GET", ORDERS + "?fields[orders]=secret", b"", 400, "unknown-field", "fields[orders]"),
        ("admin_x", "GET", ORDERS + "?colour=red", b"", 400, "unknown-parameter", "colour"),
        # Ids that cannot exist.
        ("admin_x", "GET", "/v1/orders/abc", b"", 404, None, None),
        ("admin_x", "GET", "/v1/orders/0", b"", 404, None, None),
        ("admin_x", "GET", "/v1/orders/99999999999999999999", b"", 404, None, None),
        ("admin_x", "POST", "/v1/payments/-1/confirm", b"", 404, None, None),
    ]


def test_every_bad_request_gets_its_4xx_and_changes_nothing(api: Any, world: Any, uow: Any) -> None:
    before = _state(uow)
    wrong = []
    for caller, method, path, body, status, code, source in _cases(world):
        response = _send(api, method, path, body, world.headers(caller))
        label = f"{caller} {method} {path} {body[:80]!r}"
        if response.status_code != status:
            wrong.append(f"{label}: {response.status_code} instead of {status}: {response.text[:200]}")
            continue
        error = api.expect(response, status)["errors"][0]
        if code is not None and error["code"] != code:
            wrong.append(f"{label}: code {error['code']} instead of {code}")
        if source is not None and source not in (error.get("source") or {}).values():
            wrong.append(f"{label}: source {error.get('source')} instead of {source}")
    assert not wrong, "\n".join(wrong)
    assert _state(uow) == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/vnd.api+json; charset=utf-8", "multipart/form-data"]
)
def test_documents_in_another_media_type_are_415(api: Any, world: Any, content_type: str) -> None:
    response = api.client.post(
        ORDERS, content=json.dumps(world.order_document()).encode(), headers={"Content-Type": content_type}
    )
    assert api.expect(response, 415)["errors"][0]["code"] == "unsupported-media-type"
