"""Types and checks shared by the API's paths and documents: resource ids, timestamps, PATCH changes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, PlainValidator, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from boxoffice.errors import InvalidValue, NotFound, PermissionDenied
from boxoffice.kit.jsonapi import to_member_name
from boxoffice.kit.money import MAX_AMOUNT, parse_amount
from boxoffice.kit.query import describe_filter

# Ids are database integers; anything outside this range names nothing (and is a 404, not a 500).
MAX_ID = 2_147_483_647

ResourceId = Annotated[int, Path(ge=1, le=MAX_ID, description="The resource's id.")]
"""A resource id in a URL; one that cannot exist is answered 404."""


def related_id(value: str, kind: str, pointer: str) -> int:
    """The integer id of a resource named in a document's relationship; 404 naming ``pointer``
    when it cannot be an id at all."""
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    raise NotFound(f"{kind} '{value}' does not exist.", pointer=pointer)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value  # set in Python code, never from JSON
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError):  # not a timestamp, or beyond year 9999 in UTC
            pass
    raise PydanticCustomError(
        "timestamp", "must be an RFC 3339 timestamp with a time zone, such as 2025-01-31T12:00:00Z"
    )


Timestamp = Annotated[
    datetime,
    PlainValidator(_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2025-01-31T12:00:00Z"]}),
]
"""An RFC 3339 timestamp with a time zone, as a JSON string only."""


def changes_of(attributes: BaseModel, *, nullable: Collection[str] = ()) -> dict[str, Any]:
    """The members a PATCH document sets, by Python name; 422 for a null where a value is required."""
    changes = {name: getattr(attributes, name) for name in attributes.model_fields_set}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise InvalidValue(
                f"'{to_member_name(name)}' cannot be null.", pointer=f"/data/attributes/{to_member_name(name)}"
            )
    return changes


def no_client_id(data_id: str | None) -> None:
    """Ids are the server's to choose: a create document that brings one is refused (JSON:API: 403)."""
    if data_id is not None:
        raise PermissionDenied("Ids are assigned by the server; leave out /data/id.", pointer="/data/id")


def _number(cls: Any, value: Any) -> Any:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise PydanticCustomError("whole_number", "must be a whole number")
    return value


def whole_numbers(*fields: str) -> Any:
    """A validator for a model: ``fields`` take JSON numbers without a fraction (``2`` or ``2.0``),
    never strings or booleans; null where the field allows it. The bounds stay in the fields' own
    ``Field(ge=, le=)``, so OpenAPI shows them."""
    return field_validator(*fields, mode="before")(_number)


def money(value: Decimal | str, currency: str, *, pointer: str, allow_zero: bool = True) -> Decimal:
    """An amount from a document: exact in ``currency``, not negative, and below :data:`MAX_AMOUNT`."""
    amount = parse_amount(value, currency, pointer=pointer, allow_zero=allow_zero)
    if amount >= MAX_AMOUNT:
        raise InvalidValue(f"An amount is less than {MAX_AMOUNT}.", pointer=pointer, code="amount-too-large")
    return amount


def resource_id_filter(value: str) -> int:
    """A ``filter[...]`` naming a resource by id (ids beyond :data:`MAX_ID` name nothing)."""
    if not (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID):
        raise ValueError(f"must be a resource id from 1 to {MAX_ID}")
    return int(value)


describe_filter(resource_id_filter, "A resource id.", {"pattern": r"^[0-9]{1,10}$"})
