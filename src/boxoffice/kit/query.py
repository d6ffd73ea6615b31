"""JSON:API query parameters, checked against what each endpoint allows.

An endpoint declares a :class:`QuerySpec` once, at import time, and takes the parsed
:class:`Query` as a dependency::

    ORDERS_QUERY = QuerySpec(
        "orders",
        include={"event", "payments", "payments.refunds"},
        sort={"created-at", "code"},
        default_sort="-created-at",
        filters={"payment-state": one_of(*PAYMENT_STATES), "has-open-refund": boolean},
        fields={"orders": ORDER_FIELDS, "events": EVENT_FIELDS},
    )

    @router.get("/orders")
    def list_orders(query: Annotated[Query, Depends(ORDERS_QUERY)]) -> JSONAPIResponse: ...

The dependency also documents every parameter in the OpenAPI description. Every refusal is a
400 :class:`~boxoffice.errors.BadRequest` whose ``source.parameter`` names the parameter.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Query as QueryParam
from starlette.requests import Request

from boxoffice.errors import BadRequest
from boxoffice.kit.pagination import PAGE_CURSOR, PAGE_NUMBER, PAGE_SIZE, PageRequest, decode_cursor

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

_FAMILY = re.compile(r"^([a-z][a-z-]*)\[([^\[\]]*)\]$")
_DIGITS = re.compile(r"[0-9]{1,9}")
_MAX_PAGE_NUMBER = 999_999_999


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ``sort`` member: a field name and its direction."""

    name: str
    descending: bool = False

    def __str__(self) -> str:
        return f"-{self.name}" if self.descending else self.name


@dataclass(frozen=True, slots=True)
class Query:
    """The parsed query of one request."""

    include: frozenset[str]
    fields: Mapping[str, frozenset[str]]
    sort: tuple[SortKey, ...]
    filters: Mapping[str, Any]
    page: PageRequest
    extra: Mapping[str, str]

    def includes(self, path: str) -> bool:
        """Whether ``path`` (``"payments"``) or a path below it (``"payments.refunds"``) was asked for."""
        return path in self.include

    def fields_for(self, type_: str) -> frozenset[str] | None:
        """The sparse fieldset asked for ``type_``; ``None`` means all fields."""
        return self.fields.get(type_)

    @property
    def sort_param(self) -> str:
        """The sort as a ``sort`` parameter value (also what cursors are bound to)."""
        return ",".join(str(key) for key in self.sort)


# -- filter value parsers ------------------------------------------------------------------------------

FilterParser = Callable[[str], Any]
"""Turns a ``filter[NAME]`` value into what the endpoint filters by; raises ``ValueError`` to refuse."""

_FILTER_DOCS: dict[FilterParser, tuple[str, dict[str, Any]]] = {}


def describe_filter(parser: FilterParser, description: str, schema: Mapping[str, Any] | None = None) -> FilterParser:
    """Document ``parser`` in OpenAPI: a description and JSON Schema keywords of the value."""
    _FILTER_DOCS[parser] = (description, dict(schema or {}))
    return parser


def text(value: str) -> str:
    """A filter taking any non-empty string."""
    if not value:
        raise ValueError("must not be empty")
    return value


def boolean(value: str) -> bool:
    """A filter taking ``true`` or ``false``."""
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValueError("must be 'true' or 'false'")


def integer(value: str) -> int:
    """A filter taking an integer."""
    if not re.fullmatch(r"-?\d{1,18}", value):
        raise ValueError("must be an integer")
    return int(value)


def timestamp(value: str) -> datetime:
    """A filter taking an RFC 3339 timestamp with an offset or ``Z``."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValueError("must be an RFC 3339 timestamp with a time zone, e.g. 2025-01-31T12:00:00Z")
    return parsed


describe_filter(text, "Any non-empty text.", {"minLength": 1})
describe_filter(boolean, "true or false.", {"enum": ["true", "false"]})
describe_filter(integer, "An integer.", {"pattern": r"^-?\d{1,18}$"})
describe_filter(timestamp, "An RFC 3339 timestamp, e.g. 2025-01-31T12:00:00Z.", {"format": "date-time"})


def one_of(*choices: str) -> Callable[[str], str]:
    """A filter taking one of ``choices``."""
    allowed = frozenset(choices)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError("must be one of " + ", ".join(sorted(allowed)))
        return value

    describe_filter(parse, "One of: " + ", ".join(choices) + ".", {"enum": list(choices)})
    return parse


def any_of(*choices: str) -> Callable[[str], frozenset[str]]:
    """A filter taking a comma-separated set of ``choices`` (matches any of them)."""
    single = one_of(*choices)

    def parse(value: str) -> frozenset[str]:
        return frozenset(single(part) for part in value.split(","))

    describe_filter(parse, "Comma-separated, any of: " + ", ".join(choices) + ".", {"pattern": _list_pattern(choices)})
    return parse


def _list_pattern(names: Iterable[str], *, prefix: str = "", empty: bool = False) -> str:
    """A regular expression for a comma-separated list of ``names`` (for OpenAPI only)."""
    one = prefix + "(" + "|".join(re.escape(n) for n in sorted(names)) + ")"
    many = f"{one}(,{one})*"
    return f"^({many})?$" if empty else f"^{many}$"


# -- the spec ------------------------------------------------------------------------------------------


class QuerySpec:
    """What one endpoint accepts; call it (as a FastAPI dependency) to get a :class:`Query`.

    * ``include``: allowed relationship paths; the prefixes of a dotted path are allowed too;
    * ``fields``: per resource type, the member names a sparse fieldset may name; types not
      listed are refused; ``None`` allows ``fields[TYPE]`` for any type and name;
    * ``sort``: allowed sort fields; ``default_sort`` applies when there is no ``sort``;
    * ``filters``: name → parser of the value (raise ``ValueError`` to refuse it);
    * ``cursor``: accept ``page[cursor]`` (keyset pagination) besides ``page[number]``;
    * ``extra``: further parameter names taken as they are (e.g. implementation-specific ones).
    """

    def __init__(
        self,
        type_: str,
        *,
        include: Iterable[str] = (),
        fields: Mapping[str, Iterable[str]] | None = None,
        sort: Iterable[str] = (),
        default_sort: str = "",
        filters: Mapping[str, FilterParser] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_page_size: int = MAX_PAGE_SIZE,
        cursor: bool = False,
        extra: Iterable[str] = (),
    ) -> None:
        self.type = type_
        self.include = frozenset(_with_prefixes(include))
        self.fields = None if fields is None else {t: frozenset(names) for t, names in fields.items()}
        self.sort = frozenset(sort)
        self.filters: Mapping[str, FilterParser] = dict(filters or {})
        self.page_size = page_size
        self.max_page_size = max_page_size
        self.cursor = cursor
        self.extra = frozenset(extra)
        self.default_sort = self._parse_sort(default_sort) if default_sort else ()
        self._empty = Query(frozenset(), {}, self.default_sort, {}, PageRequest(page_size), {})
        self.__signature__ = self._signature()

    async def __call__(self, request: Request, **documented: Any) -> Query:
        """The FastAPI dependency: parse ``request``'s query string."""
        return self.parse(request)

    def parse(self, request: Request) -> Query:
        """Parse and check the query parameters of ``request``."""
        params = request.query_params
        if not params:
            return self._empty
        seen: set[str] = set()
        include: frozenset[str] = frozenset()
        fields: dict[str, frozenset[str]] = {}
        sort = self.default_sort
        filters: dict[str, Any] = {}
        page: dict[str, str] = {}
        extra: dict[str, str] = {}
        for key, value in params.multi_items():
            if key in seen:
                raise BadRequest(f"'{key}' is given more than once.", parameter=key, code="repeated-parameter")
            seen.add(key)
            if key == "include":
                include = self._parse_include(value)
            elif key == "sort":
                sort = self._parse_sort(value)
            elif key in self.extra:
                extra[key] = value
            elif (match := _FAMILY.match(key)) is not None:
                family, member = match.groups()
                if family == "fields":
                    fields[member] = self._parse_fields(key, member, value)
                elif family == "filter":
                    filters[member] = self._parse_filter(key, member, value)
                elif family == "page":
                    page[key] = value
                else:
                    raise _unknown(key)
            else:
                raise _unknown(key)
        return Query(include, fields, sort, filters, self._parse_page(page, sort), extra)

    # -- one parameter each -----------------------------------------------------------------------

    def _parse_include(self, value: str) -> frozenset[str]:
        if not value:
            return frozenset()
        paths = value.split(",")
        for path in paths:
            if path not in self.include:
                allowed = ", ".join(sorted(self.include)) or "nothing"
                raise BadRequest(
                    f"Including '{path}' is not supported here (allowed: {allowed}).",
                    parameter="include",
                    code="unsupported-include",
                )
        return frozenset(_with_prefixes(paths))

    def _parse_sort(self, value: str) -> tuple[SortKey, ...]:
        keys: list[SortKey] = []
        names: set[str] = set()
        for part in value.split(","):
            descending = part.startswith("-")
            name = part[1:] if descending else part
            if name in names:  # a later mention of a field changes nothing
                continue
            if name not in self.sort:
                allowed = ", ".join(sorted(self.sort)) or "nothing"
                raise BadRequest(
                    f"Sorting by '{part}' is not supported here (allowed: {allowed}).",
                    parameter="sort",
                    code="unsupported-sort",
                )
            names.add(name)
            keys.append(SortKey(name, descending))
        return tuple(keys)

    def _parse_fields(self, key: str, type_: str, value: str) -> frozenset[str]:
        names = frozenset(value.split(",")) if value else frozenset()
        if self.fields is None:
            return names
        allowed = self.fields.get(type_)
        if allowed is None:
            raise BadRequest(f"There are no '{type_}' resources here.", parameter=key, code="unknown-type")
        unknown = names - allowed
        if unknown:
            raise BadRequest(
                f"'{type_}' has no field " + ", ".join(f"'{n}'" for n in sorted(unknown)) + ".",
                parameter=key,
                code="unknown-field",
            )
        return names

    def _parse_filter(self, key: str, name: str, value: str) -> Any:
        parser = self.filters.get(name)
        if parser is None:
            allowed = ", ".join(sorted(self.filters)) or "none"
            raise BadRequest(
                f"There is no filter '{name}' here (allowed: {allowed}).",
                parameter=key,
                code="unknown-filter",
            )
        try:
            return parser(value)
        except ValueError as exc:
            raise BadRequest(f"'{key}' {exc}.", parameter=key, code="invalid-filter") from exc

    def _parse_page(self, page: dict[str, str], sort: tuple[SortKey, ...]) -> PageRequest:
        if not page:
            return self._empty.page
        size = self.page_size
        number = 1
        cursor: tuple[Any, ...] | None = None
        for key, value in page.items():
            if key == PAGE_SIZE:
                size = _positive(key, value, "invalid-page-size")
                if size > self.max_page_size:
                    raise BadRequest(
                        f"A page holds at most {self.max_page_size} items.",
                        parameter=key,
                        code="page-size-too-large",
                    )
            elif key == PAGE_NUMBER:
                number = _positive(key, value, "invalid-page-number")
            elif key == PAGE_CURSOR and self.cursor:
                cursor = decode_cursor(value, ",".join(str(k) for k in sort))
            else:
                raise _unknown(key)
        if cursor is not None and PAGE_NUMBER in page:
            raise BadRequest(
                "Use either page[number] or page[cursor], not both.",
                parameter=PAGE_NUMBER,
                code="page-conflict",
            )
        return PageRequest(size, number, cursor)

    # -- OpenAPI -----------------------------------------------------------------------------------------

    def _signature(self) -> inspect.Signature:
        """Describe the accepted parameters to FastAPI so OpenAPI documents them (FastAPI checks
        only the integers' syntax; :meth:`parse` checks the rest, with its own error codes)."""
        params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]

        def add(alias: str, description: str, schema: dict[str, Any], annotation: Any = str) -> None:
            default = QueryParam(None, alias=alias, description=description, json_schema_extra=schema)
            kind = inspect.Parameter.KEYWORD_ONLY
            params.append(inspect.Parameter(f"p{len(params)}", kind, default=default, annotation=annotation))

        if self.include:
            names = sorted(self.include)
            description = "Related resources to include: " + ", ".join(names)
            add("include", description, {"pattern": _list_pattern(names, empty=True)})
        for type_, fields in sorted((self.fields or {}).items()):
            description = f"Sparse fieldset of '{type_}': " + ", ".join(sorted(fields))
            add(f"fields[{type_}]", description, {"pattern": _list_pattern(fields, empty=True)} if fields else {})
        if self.sort:
            names = sorted(self.sort)
            description = "Comma-separated, '-' for descending: " + ", ".join(names)
            add("sort", description, {"pattern": _list_pattern(names, prefix="-?")})
        for name, parser in sorted(self.filters.items()):
            description, schema = _FILTER_DOCS.get(parser, (f"Filter by {name}.", {}))
            add(f"filter[{name}]", description, schema)
        size_schema = {"minimum": 1, "maximum": self.max_page_size}
        add(PAGE_SIZE, f"Items per page (default {self.page_size}).", size_schema, int)
        add(PAGE_NUMBER, "Page number, from 1.", {"minimum": 1, "maximum": _MAX_PAGE_NUMBER}, int)
        if self.cursor:
            add(PAGE_CURSOR, "Opaque cursor from a 'next' link (keyset pagination).", {"pattern": "^[A-Za-z0-9_-]+$"})
        for name in sorted(self.extra):
            add(name, name, {})
        return inspect.Signature(params, return_annotation=Query)


def _with_prefixes(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        parts = path.split(".")
        out.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def _positive(key: str, value: str, code: str) -> int:
    if not _DIGITS.fullmatch(value) or int(value) < 1:
        raise BadRequest(f"'{key}' must be a whole number from 1.", parameter=key, code=code)
    return int(value)


def _unknown(key: str) -> BadRequest:
    return BadRequest(f"The query parameter '{key}' is not supported here.", parameter=key, code="unknown-parameter")
