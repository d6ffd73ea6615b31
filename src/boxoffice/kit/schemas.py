"""Pydantic models of JSON:API request and response documents, so OpenAPI shows real schemas.

Build every model once, at import time::

    class OrderCreateAttributes(Attributes):
        email: str
        payment_mode: str                      # the client sends "payment-mode"
        positions: list[PositionIn]

    class OrderCreateRelationships(Relationships):
        event: ToOne[Literal["events"]]

    OrderCreateRequest = resource_request_model("orders", OrderCreateAttributes, OrderCreateRelationships)

    class OrderAttributes(Attributes):
        code: str
        total: DecimalString
        expires_at: datetime

    OrderDocument = resource_response_model("orders", OrderAttributes, ["event", "payments"])
    OrderListDocument = list_response_model(OrderDocument)

Unknown attributes, a wrong ``type``, a missing member: FastAPI raises a validation error which
:mod:`boxoffice.kit.http` turns into a 422 whose ``source.pointer`` names the member
(``/data/attributes/payment-mode``). Response models only document: endpoints return a
:class:`~boxoffice.kit.http.JSONAPIResponse`, which FastAPI passes through without validating.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    create_model,
)
from pydantic_core import PydanticCustomError

from boxoffice.errors import Conflict
from boxoffice.kit.currencies import MAX_EXPONENT, currency_codes, is_currency_code
from boxoffice.kit.jsonapi import JSONAPI_VERSION, to_member_name
from boxoffice.kit.money import AMOUNT_PATTERN, MAX_AMOUNT, SIGNED_AMOUNT_PATTERN, amount_text_problem

_MEMBER_CONFIG = ConfigDict(
    alias_generator=to_member_name,
    populate_by_name=True,
    serialize_by_alias=True,
    extra="forbid",
)


class Attributes(BaseModel):
    """Base of attribute models: Python names in code, dasherized member names on the wire,
    unknown members refused (422 at ``/data/attributes/<name>``)."""

    model_config = _MEMBER_CONFIG


class Relationships(BaseModel):
    """Base of relationship models (fields are :class:`ToOne`, :class:`ToOneOrNone`, :class:`ToMany`)."""

    model_config = _MEMBER_CONFIG


# -- decimal strings -----------------------------------------------------------------------------------

_DECIMAL_PROBLEMS = {
    "negative": "must not be negative",
    "too-precise": f"has more than {MAX_EXPONENT} decimals",
    "too-large": f"must be less than {MAX_AMOUNT}",
}


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, str):
        problem = amount_text_problem(value)
        if problem is None:
            return Decimal(value)
        if problem in _DECIMAL_PROBLEMS:
            raise PydanticCustomError(problem.replace("-", "_"), _DECIMAL_PROBLEMS[problem])
    if isinstance(value, Decimal) and value.is_finite():
        return value  # set in Python code, never from JSON
    raise PydanticCustomError(
        "decimal_string", 'must be a decimal number written as a string of ASCII digits, such as "49.00"'
    )


class _DecimalStringSchema:
    """Documents what is enforced: :data:`AMOUNT_PATTERN` on input; on output, negative amounts too."""

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        if handler.mode == "validation":
            return {
                "type": "string",
                "pattern": AMOUNT_PATTERN,
                "description": "ASCII digits, at most as many decimals as the currency has (EUR 2, JPY 0, KWD 3).",
                "examples": ["49.00"],
            }
        return {"type": "string", "pattern": SIGNED_AMOUNT_PATTERN, "examples": ["49.00"]}


DecimalString = Annotated[
    Decimal,
    PlainValidator(_decimal_string),
    PlainSerializer(lambda value: format(value + 0, "f"), return_type=str),
    _DecimalStringSchema(),
]
"""An exact amount: only a JSON string like ``"49.00"`` (no numbers, signs or exponents) → ``Decimal``."""


def _currency_code(value: Any) -> str:
    if isinstance(value, str) and is_currency_code(value):
        return value
    raise PydanticCustomError("currency_code", "must be the ISO 4217 code of a currency in use, such as EUR")


class _CurrencyCodeSchema:
    """On input, the list of codes accepted (:func:`~boxoffice.kit.currencies.currency_codes`)."""

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        if handler.mode == "validation":
            return {"type": "string", "enum": sorted(currency_codes()), "description": "ISO 4217 code, e.g. EUR."}
        return {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code, e.g. EUR."}


CurrencyCode = Annotated[str, PlainValidator(_currency_code), _CurrencyCodeSchema()]
"""The code of a currency in use: ``EUR``, never ``XXX``, ``ABC`` or ``eur``."""


# -- resource linkage ----------------------------------------------------------------------------------

TypeT = TypeVar("TypeT", bound=str)
_STRICT = ConfigDict(extra="forbid")


def _title(type_name: Any) -> str:
    """``order-positions`` → ``OrderPositions`` (for schema names)."""
    names = get_args(type_name) or (type_name,)
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]+", str(names[0])) if part)


_named: dict[Any, Any] = {}


def _named_parametrization(parametrized: Any, params: Any, suffix: str) -> Any:
    """A subclass of a parametrized generic named after its type (``EventsToOne``), so OpenAPI
    names it that way instead of ``ToOne_Literal__events___``."""
    args = params if isinstance(params, tuple) else (params,)
    if not isinstance(parametrized, type) or any(isinstance(arg, TypeVar) for arg in args):
        return parametrized
    named = _named.get(parametrized)
    if named is None:
        named = type(f"{_title(args[0])}{suffix}", (parametrized,), {"__module__": __name__})
        named.__doc__ = parametrized.__doc__
        _named[parametrized] = named
    return named


class Identifier(BaseModel, Generic[TypeT]):
    """A resource identifier ``{"type", "id"}`` whose ``type`` must be ``TypeT``."""

    model_config = _STRICT

    type: TypeT
    id: str = Field(min_length=1)
    meta: dict[str, Any] | None = None

    def __class_getitem__(cls, params: Any) -> Any:
        return _named_parametrization(super().__class_getitem__(params), params, "Identifier")


class ToOne(BaseModel, Generic[TypeT]):
    """A required to-one relationship: ``{"data": {"type": "events", "id": "1"}}``."""

    model_config = _STRICT

    data: Identifier[TypeT]
    meta: dict[str, Any] | None = None

    def __class_getitem__(cls, params: Any) -> Any:
        return _named_parametrization(super().__class_getitem__(params), params, "ToOne")


class ToOneOrNone(BaseModel, Generic[TypeT]):
    """A to-one relationship that may be emptied: ``{"data": null}``."""

    model_config = _STRICT

    data: Identifier[TypeT] | None
    meta: dict[str, Any] | None = None

    def __class_getitem__(cls, params: Any) -> Any:
        return _named_parametrization(super().__class_getitem__(params), params, "ToOneOrNone")


class ToMany(BaseModel, Generic[TypeT]):
    """A to-many relationship: ``{"data": [{"type": "products", "id": "1"}, ...]}``."""

    model_config = _STRICT

    data: list[Identifier[TypeT]]
    meta: dict[str, Any] | None = None

    def __class_getitem__(cls, params: Any) -> Any:
        return _named_parametrization(super().__class_getitem__(params), params, "ToMany")


# -- request documents ---------------------------------------------------------------------------------


class ResourceData(BaseModel):
    """Base of the ``data`` member of a request document; subclasses add ``type: Literal[...]``,
    ``attributes`` and ``relationships`` (and ``id: str`` when it is required)."""

    model_config = _STRICT

    id: str | None = None
    meta: dict[str, Any] | None = None


class RequestDocument(BaseModel):
    """Base of request documents; subclasses add ``data: <their ResourceData>``."""

    model_config = _STRICT

    meta: dict[str, Any] | None = None
    jsonapi: dict[str, Any] | None = None


def _member(model: type[BaseModel]) -> Any:
    """A field definition for ``create_model``: required if the model has required fields."""
    if any(field.is_required() for field in model.model_fields.values()):
        return (model, ...)
    return (model, Field(default_factory=model))


def resource_request_model(
    type_name: str | tuple[str, ...],
    attributes_model: type[BaseModel] | None,
    relationships_model: type[BaseModel] | None = None,
    *,
    id_required: bool = False,
    name: str | None = None,
) -> type[RequestDocument]:
    """The model of a request document ``{"data": {"type", "id"?, "attributes", "relationships"}}``.

    ``type_name`` lists the accepted types (a wrong one is a 409 per JSON:API); ``id_required``
    for ``PATCH`` (compare it with the path using :func:`check_id`). ``attributes`` and
    ``relationships`` may be left out when their models have no required field. The models are
    named ``<name>Request`` and ``<name>Data``, ``name`` defaulting to the attributes model's name
    without ``Attributes``. Call at import time.

    The result is a class made at run time, which mypy cannot take as a type; where typed access
    matters, write the two classes instead (same validation, same schema)::

        class OrderCreateData(ResourceData):
            type: Literal["orders"]
            attributes: OrderCreateAttributes
            relationships: OrderCreateRelationships

        class OrderCreateRequest(RequestDocument):
            data: OrderCreateData
    """
    types = (type_name,) if isinstance(type_name, str) else tuple(type_name)
    base = name or _base_name(attributes_model, relationships_model, types)
    type_literal: Any = Literal[types]
    fields: dict[str, Any] = {"type": (type_literal, ...)}
    if id_required:
        fields["id"] = (str, Field(min_length=1))
    if attributes_model is not None:
        fields["attributes"] = _member(attributes_model)
    if relationships_model is not None:
        fields["relationships"] = _member(relationships_model)
    data_model = create_model(f"{base}Data", __base__=ResourceData, **fields)
    model: type[RequestDocument] = create_model(f"{base}Request", __base__=RequestDocument, data=(data_model, ...))
    return model


def _base_name(
    attributes_model: type[BaseModel] | None,
    relationships_model: type[BaseModel] | None,
    types: tuple[str, ...],
) -> str:
    for model, suffix in ((attributes_model, "Attributes"), (relationships_model, "Relationships")):
        if model is not None:
            return model.__name__.removesuffix(suffix)
    return _title(types[0])


def check_id(data_id: str | None, path_id: object) -> None:
    """409 ``id-mismatch`` when a ``PATCH`` document names another resource than its URL."""
    if data_id is not None and data_id != str(path_id):
        raise Conflict(
            f"The document's id '{data_id}' does not match the URL's '{path_id}'.",
            pointer="/data/id",
            code="id-mismatch",
        )


# -- response documents (for OpenAPI) ------------------------------------------------------------------


class ResourceIdentifierOut(BaseModel):
    """A resource identifier in a response."""

    type: str
    id: str


class RelationshipLinks(BaseModel):
    """Links of a relationship."""

    related: str | None = None
    self_: str | None = Field(default=None, alias="self")

    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)


class RelationshipOut(BaseModel):
    """A relationship in a response: linkage (``data``) and/or a ``related`` link."""

    data: ResourceIdentifierOut | list[ResourceIdentifierOut] | None = None
    links: RelationshipLinks | None = None
    meta: dict[str, Any] | None = None


class ResourceLinks(BaseModel):
    """Links of a resource object."""

    self_: str | None = Field(default=None, alias="self")

    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)


class IncludedResource(BaseModel):
    """A resource in ``included`` (any type)."""

    type: str
    id: str
    attributes: dict[str, Any] | None = None
    relationships: dict[str, RelationshipOut] | None = None
    links: ResourceLinks | None = None
    meta: dict[str, Any] | None = None


class JSONAPIObject(BaseModel):
    """The ``jsonapi`` member: the version this server speaks."""

    version: str = JSONAPI_VERSION


TopLevelLinks = dict[str, str | None]


def _sparse(schema: dict[str, Any]) -> None:
    schema.pop("required", None)


def resource_response_model(
    type_name: str,
    attributes_model: type[BaseModel],
    relationships: list[str] | tuple[str, ...] = (),
    *,
    name: str | None = None,
) -> type[BaseModel]:
    """The model of a document with one ``type_name`` resource (for ``response_model=``).

    Attributes are documented as optional (sparse fieldsets may leave any out); ``relationships``
    are member names. Call at import time.
    """
    base = name or attributes_model.__name__.removesuffix("Attributes") or _title(type_name)
    attrs: type[BaseModel] = type(
        f"{base}Fields",
        (attributes_model,),
        {"model_config": ConfigDict(json_schema_extra=_sparse), "__doc__": attributes_model.__doc__},
    )
    type_literal: Any = Literal[type_name]
    rel_fields: dict[str, Any] = {
        to_member_name(rel).replace("-", "_"): (
            RelationshipOut | None,
            Field(None, alias=to_member_name(rel)),
        )
        for rel in relationships
    }
    rels_model = create_model(f"{base}RelationshipsOut", **rel_fields) if rel_fields else None
    resource = create_model(
        f"{base}Resource",
        type=(type_literal, ...),
        id=(str, ...),
        attributes=(attrs, ...),
        relationships=(rels_model | None, None) if rels_model is not None else (None, None),
        links=(ResourceLinks | None, None),
        meta=(dict[str, Any] | None, None),
    )
    model: type[BaseModel] = create_model(
        f"{base}Document",
        jsonapi=(JSONAPIObject, ...),
        data=(resource, ...),
        included=(list[IncludedResource] | None, None),
        links=(TopLevelLinks | None, None),
        meta=(dict[str, Any] | None, None),
    )
    return model


def list_response_model(document_model: type[BaseModel], *, name: str | None = None) -> type[BaseModel]:
    """The collection document for a model made by :func:`resource_response_model`."""
    resource: Any = document_model.model_fields["data"].annotation
    data_type: Any = list[resource]
    base = name or document_model.__name__.removesuffix("Document") + "List"
    model: type[BaseModel] = create_model(
        f"{base}Document",
        jsonapi=(JSONAPIObject, ...),
        data=(data_type, ...),
        included=(list[IncludedResource] | None, None),
        links=(TopLevelLinks | None, None),
        meta=(dict[str, Any] | None, None),
    )
    return model


class ErrorSource(BaseModel):
    """What in the request an error is about."""

    pointer: str | None = Field(None, description="JSON Pointer into the request document")
    parameter: str | None = Field(None, description="The query parameter")
    header: str | None = Field(None, description="The request header")


class ErrorObject(BaseModel):
    """One JSON:API error."""

    status: str
    code: str
    title: str
    detail: str
    source: ErrorSource | None = None
    meta: dict[str, Any] | None = None


class ErrorDocument(BaseModel):
    """A JSON:API error document."""

    jsonapi: JSONAPIObject | None = None
    errors: list[ErrorObject]
