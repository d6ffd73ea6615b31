"""Pages of collections: what the client asked for, what it got, and the links between pages.

Two kinds of pagination share :class:`PageRequest`:

* numbered: ``page[number]`` (1-based) and ``page[size]``; ``offset``/``limit`` for the query;
* keyset: ``page[cursor]``, an opaque token holding the sort key of the last item of the previous
  page, for large collections where ``OFFSET`` gets slow. The endpoint fetches ``size + 1`` rows
  ``WHERE (sort key) > (cursor)`` and :meth:`Page.from_rows` turns them into a page.

Links are path-absolute URI references (``/v1/orders?page[number]=2``), which JSON:API 1.1 allows;
all other query parameters are kept.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request

from boxoffice.errors import BadRequest

T = TypeVar("T")

PAGE_NUMBER = "page[number]"
PAGE_SIZE = "page[size]"
PAGE_CURSOR = "page[cursor]"


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The page a client asked for. ``cursor`` is the decoded keyset (``None``: numbered or first)."""

    size: int
    number: int = 1
    cursor: tuple[Any, ...] | None = None

    @property
    def offset(self) -> int:
        """Rows to skip for numbered pagination."""
        return (self.number - 1) * self.size

    @property
    def limit(self) -> int:
        """Rows to fetch: one more than the page size, to learn whether there is a next page."""
        return self.size + 1


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results.

    ``total`` (numbered pagination with a count) gives a ``last`` link; ``has_next`` is known either
    way; ``next_cursor`` is set for keyset pagination when there is a next page.
    """

    items: Sequence[T]
    request: PageRequest
    has_next: bool
    total: int | None = None
    next_cursor: str | None = None

    @classmethod
    def counted(cls, items: Sequence[T], request: PageRequest, total: int) -> Page[T]:
        """A numbered page whose collection size is known (``SELECT count(*)``)."""
        return cls(items, request, has_next=request.offset + len(items) < total, total=total)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[T],
        request: PageRequest,
        *,
        key: Callable[[T], Sequence[Any]] | None = None,
        sort: str = "",
    ) -> Page[T]:
        """A page from ``request.limit`` (size + 1) fetched rows, without counting.

        With ``key`` (the row's sort key, ending in a unique column) the page carries the cursor of
        its last item, for keyset pagination; ``sort`` is the ``sort`` parameter it belongs to.
        """
        has_next = len(rows) > request.size
        items = rows[: request.size] if has_next else rows
        cursor = encode_cursor(key(items[-1]), sort) if has_next and key is not None and items else None
        return cls(items, request, has_next=has_next, next_cursor=cursor)

    @property
    def last_number(self) -> int | None:
        """The number of the last page, when the total is known (1 for an empty collection)."""
        if self.total is None:
            return None
        return max(1, -(-self.total // self.request.size))

    def meta(self) -> dict[str, Any]:
        """Top-level ``meta`` for the collection: ``{"count": total}`` when counted."""
        return {} if self.total is None else {"count": self.total}


# -- cursors -----------------------------------------------------------------------------------------

_TAGS: dict[str, Callable[[str], Any]] = {
    "d": Decimal,
    "t": datetime.fromisoformat,
    "D": date.fromisoformat,
}


def _tag(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"d": format(value, "f")}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"D": value.isoformat()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def encode_cursor(key: Sequence[Any], sort: str = "") -> str:
    """The opaque ``page[cursor]`` for the item whose sort key is ``key``.

    Decimals, datetimes and dates come back as such from :func:`decode_cursor`.
    """
    raw = json.dumps({"s": sort, "k": [_tag(v) for v in key]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: str = "") -> tuple[Any, ...]:
    """The sort key inside a cursor; 400 ``invalid-cursor`` if it was not made for this ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict) or payload.get("s") != sort or not isinstance(payload.get("k"), list):
            raise ValueError("foreign cursor")
        return tuple(_untag(v) for v in payload["k"])
    except (ValueError, binascii.Error, InvalidOperation, TypeError, KeyError) as exc:
        raise BadRequest(
            "The cursor is not valid for this collection and sort order; start again from the first page.",
            parameter=PAGE_CURSOR,
            code="invalid-cursor",
        ) from exc


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        return _TAGS[tag](text)
    return value


# -- links -------------------------------------------------------------------------------------------

_PAGE_KEYS = frozenset({PAGE_NUMBER, PAGE_CURSOR})


def _link(path: str, base: list[tuple[str, str]], extra: list[tuple[str, str]]) -> str:
    params = base + extra
    return f"{path}?{urlencode(params, safe='[],')}" if params else path


def pagination_links(request: Request, page: Page[Any]) -> dict[str, str | None]:
    """``self``, ``first``, ``prev``, ``next`` and ``last`` links, keeping every other parameter.

    ``last`` is written only when the total is known; ``prev`` is ``None`` for keyset pages (they
    only go forward) and on the first page.
    """
    path = request.url.path
    base = [(k, v) for k, v in request.query_params.multi_items() if k not in _PAGE_KEYS]
    req = page.request
    links: dict[str, str | None] = {"self": _link(path, base, _self_params(req, request))}
    links["first"] = _link(path, base, [])
    if req.cursor is not None or page.next_cursor is not None:
        links["prev"] = None
        links["next"] = _link(path, base, [(PAGE_CURSOR, page.next_cursor)]) if page.next_cursor else None
        return links
    links["prev"] = _link(path, base, _number(req.number - 1)) if req.number > 1 else None
    links["next"] = _link(path, base, _number(req.number + 1)) if page.has_next else None
    last = page.last_number
    if last is not None:
        links["last"] = _link(path, base, _number(last))
    return links


def _number(number: int) -> list[tuple[str, str]]:
    return [] if number <= 1 else [(PAGE_NUMBER, str(number))]


def _self_params(req: PageRequest, request: Request) -> list[tuple[str, str]]:
    cursor = request.query_params.get(PAGE_CURSOR)
    if cursor is not None:
        return [(PAGE_CURSOR, cursor)]
    return _number(req.number)
