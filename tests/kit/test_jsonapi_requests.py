"""Request documents: Pydantic jsonapi_models, decimal strings, relationship linkage, and the errors they give."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from boxoffice.kit.schemas import (
    Attributes,
    DecimalString,
    Relationships,
    RequestDocument,
    ResourceData,
    ToMany,
    ToOne,
    ToOneOrNone,
    resource_request_model,
)
from boxoffice.kit.validation import validation_errors
from jsonapi_schema import assert_jsonapi

JSONAPI = {"Content-Type": "application/vnd.api+json"}


def order_doc(**changes: Any) -> dict[str, Any]:
    attributes = {"email": "a@example.org", "payment-mode": "sandbox", "positions": [{"product": "1", "quantity": 2}]}
    data: dict[str, Any] = {
        "type": "orders",
        "attributes": attributes | changes.pop("attributes", {}),
        "relationships": {"event": {"data": {"type": "events", "id": "1"}}},
    }
    data.update(changes)
    return {"data": data}


def errors_of(jsonapi_client: TestClient, method: str, url: str, body: Any, status: int) -> list[dict[str, Any]]:
    response = jsonapi_client.request(method, url, json=body, headers=JSONAPI)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    doc = response.json()
    assert_jsonapi(doc)
    return doc["errors"]


# -- decimal strings -----------------------------------------------------------------------------------

DECIMAL = TypeAdapter(DecimalString)


@pytest.mark.parametrize("text", ["49.00", "0", "1500", "0.001", "999999999999.99"])
def test_decimal_strings_are_exact(text: str) -> None:
    value = DECIMAL.validate_python(text)
    assert value == Decimal(text) and str(value) == text
    assert DECIMAL.dump_python(value, mode="json") == text
    assert DECIMAL.validate_json(f'"{text}"') == Decimal(text)


@pytest.mark.parametrize(
    "bad", [49.0, 49, "4.9e1", "1E3", " 49", "49.", ".5", "+1", "NaN", "Infinity", "1,5", True, None, ""]
)
def test_decimal_strings_refuse_everything_else(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        DECIMAL.validate_python(bad)
    assert info.value.errors()[0]["type"] == "decimal_string"


@pytest.mark.parametrize(
    ("bad", "kind"),
    [("\u0661\u0662", "decimal_string"), ("\uff11\uff12.00", "decimal_string"), ("49\n", "decimal_string"), ("-0", "negative"),
     ("-1.5", "negative"), ("1.2345", "too_precise"), ("1000000000000", "too_large")],
)  # fmt: skip
def test_decimal_strings_are_ascii_not_negative_at_most_3_decimals_and_below_10_to_the_12(bad: str, kind: str) -> None:
    with pytest.raises(ValidationError) as info:
        DECIMAL.validate_python(bad)
    assert info.value.errors()[0]["type"] == kind


def test_decimal_string_schema_states_what_is_enforced() -> None:
    schema = DECIMAL.json_schema()
    assert schema["type"] == "string" and schema["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,3})?$"
    written = DECIMAL.json_schema(mode="serialization")
    assert written["pattern"] == r"^(-(?=[0-9.]*[1-9]))?[0-9]+(\.[0-9]+)?$"  # owed back: negative, never -0
    assert DECIMAL.dump_python(Decimal("-0.00"), mode="json") == "0.00"


# -- models --------------------------------------------------------------------------------------------


def test_request_model_reads_dasherized_members_into_python_names(jsonapi_models: SimpleNamespace) -> None:
    payload = jsonapi_models.OrderCreateRequest.model_validate(order_doc(attributes={"donation": "2.50"}))
    data = payload.data  # type: ignore[attr-defined]
    assert data.type == "orders" and data.id is None
    assert data.attributes.payment_mode == "sandbox"
    assert data.attributes.donation == Decimal("2.50")
    assert data.relationships.event.data.id == "1"
    assert type(data.relationships.event).__name__ == "EventsToOne"


def test_attribute_models_take_python_names_too(jsonapi_models: SimpleNamespace) -> None:
    attrs = jsonapi_models.OrderCreateAttributes(email="a@b.c", payment_mode="free", positions=[])
    assert attrs.model_dump() == {"email": "a@b.c", "payment-mode": "free", "positions": [], "donation": None}


def test_unknown_members_are_refused_everywhere(jsonapi_models: SimpleNamespace) -> None:
    for doc in (
        order_doc(attributes={"colour": "red"}),
        order_doc(links={"self": "/x"}),
        order_doc() | {"included": []},
    ):
        with pytest.raises(ValidationError) as info:
            jsonapi_models.OrderCreateRequest.model_validate(doc)
        assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_optional_members_may_be_left_out() -> None:
    class NoteAttributes(Attributes):
        comment: str | None = None

    model = resource_request_model("notes", NoteAttributes)
    assert model.__name__ == "NoteRequest"
    payload = model.model_validate({"data": {"type": "notes"}})
    assert payload.data.attributes.comment is None  # type: ignore[attr-defined]


def test_several_type_names() -> None:
    model = resource_request_model(("charge", "charges"), None, name="Charge")
    for type_name in ("charge", "charges"):
        model.model_validate({"data": {"type": type_name}})
    with pytest.raises(ValidationError):
        model.model_validate({"data": {"type": "charged"}})


def test_relationship_inputs() -> None:
    class Rels(Relationships):
        event: ToOne[Literal["events"]]
        voucher: ToOneOrNone[Literal["vouchers"]] | None = None
        products: ToMany[Literal["products"]] = ToMany[Literal["products"]](data=[])

    rels = Rels.model_validate(
        {
            "event": {"data": {"type": "events", "id": "1"}},
            "voucher": {"data": None},
            "products": {"data": [{"type": "products", "id": "2"}, {"type": "products", "id": "3"}]},
        }
    )
    assert rels.voucher is not None and rels.voucher.data is None
    assert [p.id for p in rels.products.data] == ["2", "3"]
    for bad in (
        {"type": "events", "id": 1},
        {"type": "events", "id": ""},
        {"type": "events"},
        {"type": "event", "id": "1"},
    ):
        with pytest.raises(ValidationError):
            Rels.model_validate({"event": {"data": bad}})


def test_class_based_request_documents_match_the_factory(jsonapi_models: SimpleNamespace) -> None:
    """Where typed access matters, two small classes do what resource_request_model does."""

    class OrderCreateData(ResourceData):
        type: Literal["orders"]
        attributes: jsonapi_models.OrderCreateAttributes  # type: ignore[name-defined]

    class TypedOrderCreateRequest(RequestDocument):
        data: OrderCreateData

    doc = order_doc()
    del doc["data"]["relationships"]
    payload = TypedOrderCreateRequest.model_validate(doc)
    assert payload.data.attributes.payment_mode == "sandbox"


# -- error mapping -------------------------------------------------------------------------------------


def test_validation_errors_become_pointers(jsonapi_client: TestClient) -> None:
    body = order_doc(
        attributes={"colour": "red", "donation": 5, "positions": [{"product": "1", "quantity": 0}]},
        relationships={"event": {"data": {"type": "products", "id": "1"}}},
    )
    del body["data"]["attributes"]["email"]
    errors = errors_of(jsonapi_client, "POST", "/v1/orders", body, 422)
    by_pointer = {e["source"]["pointer"]: e for e in errors}
    assert set(by_pointer) == {
        "/data/attributes/email",
        "/data/attributes/colour",
        "/data/attributes/donation",
        "/data/attributes/positions/0/quantity",
        "/data/relationships/event/data/type",
    }
    assert by_pointer["/data/attributes/email"]["code"] == "missing"
    assert by_pointer["/data/attributes/colour"]["code"] == "unknown-member"
    assert by_pointer["/data/attributes/donation"]["code"] == "invalid-decimal"
    assert by_pointer["/data/relationships/event/data/type"]["code"] == "invalid-choice"
    assert all(e["status"] == "422" and e["title"] for e in errors)


def test_missing_data_and_missing_attributes(jsonapi_client: TestClient) -> None:
    assert errors_of(jsonapi_client, "POST", "/v1/orders", {"meta": {}}, 422)[0]["source"] == {"pointer": "/data"}
    body = order_doc()
    del body["data"]["attributes"]
    assert errors_of(jsonapi_client, "POST", "/v1/orders", body, 422)[0]["source"] == {"pointer": "/data/attributes"}


def test_wrong_primary_type_is_a_conflict(jsonapi_client: TestClient) -> None:
    errors = errors_of(jsonapi_client, "POST", "/v1/orders", order_doc(type="payments"), 409)
    assert errors[0]["code"] == "type-mismatch"
    assert errors[0]["source"] == {"pointer": "/data/type"}


def test_singular_and_plural_charge_types(jsonapi_client: TestClient) -> None:
    for type_name in ("charge", "charges"):
        body = {"data": {"type": type_name, "attributes": {"sandbox": "4242424242424242"}}}
        response = jsonapi_client.post("/v1/orders/3/charge", json=body, headers=JSONAPI)
        assert response.status_code == 200
        assert_jsonapi(response.json())
        assert response.json()["data"]["attributes"] == {"status": True, "message": "paid"}


def test_patch_needs_the_id_of_its_url(jsonapi_client: TestClient) -> None:
    good = {"data": {"type": "orders", "id": "3", "attributes": {"email": "new@example.org"}}}
    assert jsonapi_client.patch("/v1/orders/3", json=good, headers=JSONAPI).status_code == 200
    errors = errors_of(jsonapi_client, "PATCH", "/v1/orders/4", good, 409)
    assert errors[0]["code"] == "id-mismatch" and errors[0]["source"] == {"pointer": "/data/id"}
    del good["data"]["id"]
    assert errors_of(jsonapi_client, "PATCH", "/v1/orders/3", good, 422)[0]["source"] == {"pointer": "/data/id"}


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"data": ', "invalid-json"),
        (b"[1, 2]", "not-a-document"),
        (b'"text"', "not-a-document"),
        (b"", "missing-body"),
    ],
)
def test_bodies_that_are_no_document_are_400(jsonapi_client: TestClient, content: bytes, code: str) -> None:
    response = jsonapi_client.post("/v1/orders", content=content, headers=JSONAPI)
    assert response.status_code == 400, response.text
    doc = response.json()
    assert_jsonapi(doc)
    assert doc["errors"][0]["code"] == code


def test_path_values_that_cannot_exist_are_404(jsonapi_client: TestClient) -> None:
    response = jsonapi_client.post("/v1/orders/abc/charge", json={"data": {"type": "charge", "attributes": {}}})
    assert response.status_code == 404
    assert_jsonapi(response.json())


def test_pointer_escaping_and_union_tags() -> None:
    class Thing(BaseModel):
        value: int | str

    body = {"data": {"attributes": {"a/b~c": 1, "value": []}}}
    errors = [
        {
            "type": "extra_forbidden",
            "loc": ("body", "data", "attributes", "a/b~c"),
            "msg": "Extra inputs are not permitted",
        },
        {
            "type": "int_type",
            "loc": ("body", "data", "attributes", "value", "int"),
            "msg": "Input should be a valid integer",
        },
        {
            "type": "string_type",
            "loc": ("body", "data", "attributes", "value", "str"),
            "msg": "Input should be a valid string",
        },
    ]
    status, objects = validation_errors(errors, body)
    assert status == 422
    assert [o["source"]["pointer"] for o in objects] == [
        "/data/attributes/a~1b~0c",
        "/data/attributes/value",
        "/data/attributes/value",
    ]
    assert_jsonapi({"errors": objects})


def test_mixed_statuses_answer_400() -> None:
    errors = [
        {"type": "missing", "loc": ("body", "data"), "msg": "Field required"},
        {"type": "int_parsing", "loc": ("query", "page[size]"), "msg": "Input should be a valid integer"},
        {"type": "missing", "loc": ("header", "idempotency-key"), "msg": "Field required"},
    ]
    status, objects = validation_errors(errors, {})
    assert status == 400
    assert [o["source"] for o in objects] == [
        {"pointer": "/data"},
        {"parameter": "page[size]"},
        {"header": "idempotency-key"},
    ]
