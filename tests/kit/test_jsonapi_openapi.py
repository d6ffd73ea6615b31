"""The OpenAPI description: valid OpenAPI 3.1, real request and response schemas, JSON:API media type."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient

MEDIA = "application/vnd.api+json"


@pytest.fixture(scope="module")
def spec(jsonapi_client: TestClient) -> dict[str, Any]:
    response = jsonapi_client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_description_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(spec).validate()


def test_every_component_schema_is_valid_json_schema(spec: dict[str, Any]) -> None:
    meta = "https://json-schema.org/draft/2020-12/schema"
    for name, schema in spec["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid({"$schema": meta, **schema}), name


def test_request_bodies_are_documented_with_both_media_types(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/orders"]["post"]["requestBody"]["content"]
    assert list(body) == [MEDIA, "application/json"]
    assert body[MEDIA]["schema"] == {"$ref": "#/components/schemas/OrderCreateRequest"}


def test_request_schemas_show_the_document_shape(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    data = schemas["OrderCreateData"]
    assert data["properties"]["type"]["const"] == "orders"
    assert set(data["required"]) == {"type", "attributes", "relationships"}
    assert data["additionalProperties"] is False
    attributes = schemas["OrderCreateAttributes"]
    assert set(attributes["properties"]) == {"email", "payment-mode", "positions", "donation"}
    assert set(attributes["required"]) == {"email", "payment-mode", "positions"}
    donation = attributes["properties"]["donation"]["anyOf"][0]
    assert donation["type"] == "string" and donation["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,3})?$"
    event = schemas["OrderCreateRelationships"]["properties"]["event"]
    assert event == {"$ref": "#/components/schemas/EventsToOne"}
    assert schemas["EventsIdentifier"]["properties"]["type"]["const"] == "events"
    assert schemas["ChargeData"]["properties"]["type"]["enum"] == ["charge", "charges"]
    assert "id" in schemas["OrderUpdateData"]["required"]


def test_response_schemas_and_media_type(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    created = spec["paths"]["/v1/orders"]["post"]["responses"]["201"]["content"]
    assert created == {MEDIA: {"schema": {"$ref": "#/components/schemas/OrderDocument"}}}
    listed = spec["paths"]["/v1/orders"]["get"]["responses"]["200"]["content"]
    assert listed == {MEDIA: {"schema": {"$ref": "#/components/schemas/OrderListDocument"}}}
    resource = schemas["OrderResource"]
    assert resource["properties"]["type"]["const"] == "orders"
    assert set(schemas["OrderRelationshipsOut"]["properties"]) == {"event", "payments"}
    fields = schemas["OrderFields"]
    assert "required" not in fields  # sparse fieldsets may leave any attribute out
    assert fields["properties"]["total"]["type"] == "string"
    assert fields["properties"]["expires-at"]["format"] == "date-time"
    assert schemas["OrderListDocument"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/OrderResource"}


def test_errors_are_documented_as_json_api_error_documents(spec: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorDocument"}
    for path, item in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for operation in item.values():
            responses = operation["responses"]
            assert responses["default"]["content"][MEDIA]["schema"] == error_ref
            if "422" in responses:
                assert responses["422"]["content"] == {MEDIA: {"schema": error_ref}}
    assert spec["paths"]["/v1/orders/{order_id}"]["get"]["responses"]["404"]["content"][MEDIA]["schema"] == error_ref
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert set(spec["components"]["schemas"]["ErrorObject"]["required"]) == {"status", "code", "title", "detail"}


def test_query_parameters_are_documented(spec: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in spec["paths"]["/v1/orders"]["get"]["parameters"]}
    assert set(parameters) == {
        "include",
        "fields[events]",
        "fields[orders]",
        "fields[payments]",
        "sort",
        "filter[status]",
        "filter[paid]",
        "page[size]",
        "page[number]",
    }
    assert parameters["page[size]"]["schema"]["maximum"] == 100
    assert "pending" in parameters["filter[status]"]["description"]
    cursor = {p["name"] for p in spec["paths"]["/v1/payments"]["get"]["parameters"]}
    assert "page[cursor]" in cursor


def test_the_description_is_built_once(jsonapi_app: FastAPI) -> None:
    assert jsonapi_app.openapi() is jsonapi_app.openapi()
