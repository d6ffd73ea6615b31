"""Response documents: member names, value serialization, sparse fieldsets, compound documents."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from uuid import UUID

import pytest

from boxoffice.errors import Conflict
from boxoffice.kit.http import JSONAPIResponse, dumps
from boxoffice.kit.jsonapi import (
    Includer,
    document,
    error_document,
    identifier,
    meta_document,
    rel_to_many,
    rel_to_one,
    resource_object,
    serialize_value,
    to_member_name,
)
from jsonapi_schema import assert_jsonapi, jsonapi_errors


class Color(Enum):
    RED = "red"


class State(StrEnum):
    PAID = "paid"


def test_member_names_are_dasherized() -> None:
    assert to_member_name("payment_state") == "payment-state"
    assert to_member_name("pending_sum") == "pending-sum"
    assert to_member_name("email") == "email"
    assert to_member_name("type_") == "type"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("49.00"), "49.00"),
        (Decimal("1500"), "1500"),
        (Decimal("0.10"), "0.10"),
        (Decimal("-5.5"), "-5.5"),
        (Decimal("1E+3"), "1000"),  # never exponent notation
        (Decimal("0E-2"), "0.00"),
        (datetime(2025, 1, 31, 12, 0, tzinfo=UTC), "2025-01-31T12:00:00Z"),
        (datetime(2025, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1))), "2025-01-31T12:00:00Z"),
        (datetime(2025, 1, 31, 12, 0, 0, 250000, tzinfo=UTC), "2025-01-31T12:00:00.250000Z"),
        (datetime(2025, 1, 31, 12, 0), "2025-01-31T12:00:00Z"),  # naive is taken as UTC
        (date(2025, 1, 31), "2025-01-31"),
        (Color.RED, "red"),
        (State.PAID, "paid"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ("text", "text"),
        (None, None),
    ],
)
def test_serialize_value(value: object, expected: object) -> None:
    assert serialize_value(value) == expected


def test_serialize_value_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        serialize_value(object())


def test_rendering_writes_values_the_api_way() -> None:
    body = dumps({"a": Decimal("49.00"), "b": datetime(2025, 1, 1, tzinfo=UTC), "c": State.PAID, "d": "ä"})
    assert body == '{"a":"49.00","b":"2025-01-01T00:00:00Z","c":"paid","d":"ä"}'.encode()
    response = JSONAPIResponse({"data": None})
    assert response.media_type == "application/vnd.api+json"
    assert response.headers["content-type"] == "application/vnd.api+json"
    assert json.loads(response.body) == {"data": None}


def order(fields: frozenset[str] | None = None) -> dict:
    return resource_object(
        "orders",
        7,
        {"code": "ABC12", "payment_state": "paid", "total": Decimal("49.00")},
        {
            "event": rel_to_one("events", 1, "/v1/events/1"),
            "payments": rel_to_many("payments", [3, 4], "/v1/orders/7/payments"),
        },
        links={"self": "/v1/orders/7"},
        meta={"can-cancel": True},
        fields=fields,
    )


def test_resource_object() -> None:
    obj = order()
    assert obj == {
        "type": "orders",
        "id": "7",
        "attributes": {"code": "ABC12", "payment-state": "paid", "total": Decimal("49.00")},
        "relationships": {
            "event": {"data": {"type": "events", "id": "1"}, "links": {"related": "/v1/events/1"}},
            "payments": {
                "data": [{"type": "payments", "id": "3"}, {"type": "payments", "id": "4"}],
                "links": {"related": "/v1/orders/7/payments"},
            },
        },
        "links": {"self": "/v1/orders/7"},
        "meta": {"can-cancel": True},
    }
    assert_jsonapi(json.loads(dumps(document(obj))))


def test_sparse_fieldsets_apply_to_attributes_and_relationships() -> None:
    obj = order(frozenset({"payment-state", "event"}))
    assert obj["attributes"] == {"payment-state": "paid"}
    assert list(obj["relationships"]) == ["event"]
    bare = order(frozenset())
    assert bare["attributes"] == {}
    assert "relationships" not in bare
    assert_jsonapi(json.loads(dumps(document([obj, order(frozenset()) | {"id": "8"}]))))


def test_relationship_helpers() -> None:
    assert rel_to_one("events", None) == {"data": None}
    assert rel_to_one("events", 5) == {"data": {"type": "events", "id": "5"}}
    assert rel_to_many("payments", []) == {"data": []}
    assert rel_to_many("payments", None, "/v1/orders/1/payments") == {"links": {"related": "/v1/orders/1/payments"}}
    assert identifier("orders", 3) == {"type": "orders", "id": "3"}
    with pytest.raises(ValueError):
        rel_to_many("payments", None)


def test_includer_skips_duplicates_and_primary_data() -> None:
    primary = [order(), order() | {"id": "8"}]
    includer = Includer(primary=primary)
    event = resource_object("events", 1, {"name": "Demo"})
    assert includer.add(event) is True
    assert includer.add(resource_object("events", "1", {"name": "Demo"})) is False
    assert includer.add(order()) is False  # already primary data
    includer.add_all([resource_object("payments", 3, {}), resource_object("payments", 3, {})])
    assert [(r["type"], r["id"]) for r in includer.included] == [("events", "1"), ("payments", "3")]
    assert ("orders", "7") in includer
    assert len(includer) == 2
    doc = document(primary, included=includer)
    assert_jsonapi(json.loads(dumps(doc)))


def test_includer_with_single_primary_resource() -> None:
    includer = Includer(primary=order())
    assert includer.add(order()) is False
    assert document(order(), included=includer)["included"] == []


def test_document_members() -> None:
    doc = document(None, links={"self": "/v1/orders/1"}, meta={"count": 0})
    assert doc == {"jsonapi": {"version": "1.1"}, "data": None, "links": {"self": "/v1/orders/1"}, "meta": {"count": 0}}
    assert "included" not in document([])
    assert_jsonapi(doc)
    assert_jsonapi(meta_document({"status": "queued"}))


def test_error_document_from_domain_errors() -> None:
    doc = error_document([Conflict("The order is paid.", pointer="/data", code="order-paid").as_jsonapi()])
    assert doc["errors"][0] == {
        "status": "409",
        "code": "order-paid",
        "title": "State conflict",
        "detail": "The order is paid.",
        "source": {"pointer": "/data"},
    }
    assert_jsonapi(doc)


def test_schema_helper_rejects_broken_documents() -> None:
    assert jsonapi_errors({"data": None, "errors": []})  # data and errors together
    assert jsonapi_errors({"data": {"type": "orders", "attributes": {}}})  # no id in a response
    assert jsonapi_errors({"data": {"type": "orders", "id": "1", "attributes": {"bad name": 1}}})
    assert jsonapi_errors({"included": [], "meta": {}})  # included without data
