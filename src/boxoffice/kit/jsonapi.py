"""JSON:API response documents as plain dicts: resource objects, relationships, compound documents.

Endpoints build documents with these functions and hand them to
:class:`boxoffice.kit.http.JSONAPIResponse`. Values stay Python values (``Decimal``, ``datetime``,
enums) until the response is rendered, where :func:`serialize_value` writes them; nothing is
copied on the way.

Attribute names may be given in Python spelling (``payment_state``); they are written as member
names (``payment-state``). Nested objects inside an attribute are written as given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

JSONAPI_VERSION = "1.1"
MEDIA_TYPE = "application/vnd.api+json"

Relationship = dict[str, Any]
"""A relationship object: ``{"data": ..., "links": {"related": ...}}``."""

ResourceObject = dict[str, Any]
"""A resource object: ``{"type", "id", "attributes", "relationships", "links", "meta"}``."""

_member_names: dict[str, str] = {}


def to_member_name(name: str) -> str:
    """The JSON:API member name of a Python name: ``payment_state`` → ``payment-state``.

    Leading and trailing underscores (``type_``) are dropped. Results are cached.
    """
    member = _member_names.get(name)
    if member is None:
        member = name.strip("_").replace("_", "-")
        _member_names[name] = member
    return member


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; a naive datetime is taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def serialize_value(value: Any) -> Any:
    """The JSON value of one Python value; used as the ``default`` hook of the JSON encoder.

    ``Decimal("49.00")`` → ``"49.00"`` (never exponent notation), ``datetime`` → RFC 3339 UTC
    ``"2025-01-31T12:00:00Z"``, ``date`` → ``"2025-01-31"``, enums → their value, UUIDs and
    sets → string and list. Anything else raises ``TypeError``.
    """
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return serialize_value(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def identifier(type_: str, id_: object) -> dict[str, str]:
    """A resource identifier object ``{"type", "id"}``; ids are always strings."""
    return {"type": type_, "id": str(id_)}


def rel_to_one(type_: str, id_: object | None, related: str | None = None) -> Relationship:
    """A to-one relationship with linkage (``data`` is ``None`` when empty) and a ``related`` link."""
    rel: Relationship = {"data": None if id_ is None else {"type": type_, "id": str(id_)}}
    if related is not None:
        rel["links"] = {"related": related}
    return rel


def rel_to_many(type_: str, ids: Iterable[object] | None, related: str | None = None) -> Relationship:
    """A to-many relationship; ``ids=None`` leaves out linkage (not loaded) and keeps only the link."""
    rel: Relationship = {}
    if ids is not None:
        rel["data"] = [{"type": type_, "id": str(i)} for i in ids]
    if related is not None:
        rel["links"] = {"related": related}
    if not rel:
        raise ValueError("a relationship needs linkage or a related link")
    return rel


def resource_object(
    type_: str,
    id_: object,
    attributes: Mapping[str, Any],
    relationships: Mapping[str, Relationship] | None = None,
    links: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    fields: frozenset[str] | set[str] | None = None,
) -> ResourceObject:
    """A resource object. ``fields`` (member names, from ``fields[TYPE]``) keeps only those
    attributes and relationships; ``None`` keeps everything.

    Attribute and relationship keys may use Python names; they are dasherized.
    """
    obj: ResourceObject = {"type": type_, "id": str(id_)}
    name = to_member_name
    if fields is None:
        obj["attributes"] = {name(k): v for k, v in attributes.items()}
        if relationships:
            obj["relationships"] = {name(k): v for k, v in relationships.items()}
    else:
        obj["attributes"] = {m: v for k, v in attributes.items() if (m := name(k)) in fields}
        if relationships:
            rels = {m: v for k, v in relationships.items() if (m := name(k)) in fields}
            if rels:
                obj["relationships"] = rels
    if links:
        obj["links"] = dict(links)
    if meta:
        obj["meta"] = dict(meta)
    return obj


def resource_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    """The identity ``(type, id)`` of a resource object or identifier."""
    return obj["type"], obj["id"]


class Includer:
    """Collects the ``included`` resources of a compound document.

    Each resource appears once, and never when it is already part of the primary data::

        includer = Includer(primary=data)
        if query.includes("event"):
            includer.add(event_resource)
        return document(data, included=includer)
    """

    __slots__ = ("_items", "_seen")

    def __init__(self, primary: ResourceObject | Iterable[ResourceObject] | None = None) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._items: list[ResourceObject] = []
        if isinstance(primary, dict):
            self._seen.add(resource_key(primary))
        elif primary is not None:
            self._seen.update(resource_key(obj) for obj in primary)

    def __contains__(self, key: tuple[str, str]) -> bool:
        """Whether ``(type, id)`` is in the primary data or already included."""
        return key in self._seen

    def __len__(self) -> int:
        return len(self._items)

    def add(self, obj: ResourceObject) -> bool:
        """Include ``obj`` unless it is there already; returns whether it was added."""
        key = (obj["type"], obj["id"])
        if key in self._seen:
            return False
        self._seen.add(key)
        self._items.append(obj)
        return True

    def add_all(self, objs: Iterable[ResourceObject]) -> None:
        """Include each of ``objs`` (duplicates skipped)."""
        for obj in objs:
            self.add(obj)

    @property
    def included(self) -> list[ResourceObject]:
        """The included resources, in the order they were added."""
        return self._items


_JSONAPI_OBJECT: dict[str, str] = {"version": JSONAPI_VERSION}


def document(
    data: ResourceObject | list[ResourceObject] | None,
    *,
    included: Includer | list[ResourceObject] | None = None,
    links: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A top-level document with primary ``data``. ``included`` is written whenever it is given
    (an empty list when the client asked for includes that turned out empty)."""
    doc: dict[str, Any] = {"jsonapi": _JSONAPI_OBJECT, "data": data}
    if included is not None:
        doc["included"] = included.included if isinstance(included, Includer) else included
    if links:
        doc["links"] = links
    if meta:
        doc["meta"] = meta
    return doc


def meta_document(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A document with only ``meta`` (e.g. for an action that returns no resource)."""
    return {"jsonapi": _JSONAPI_OBJECT, "meta": meta}


def error_document(errors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A document with ``errors`` (JSON:API error objects, e.g. ``DomainError.as_jsonapi()``)."""
    return {"jsonapi": _JSONAPI_OBJECT, "errors": list(errors)}
