"""Collections: sorting, counting and paging a query, and the collection document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from boxoffice.kit.jsonapi import Includer, ResourceObject, document
from boxoffice.kit.pagination import Page, pagination_links
from boxoffice.kit.query import Query

T = TypeVar("T")


def page_of(session: Session, statement: Select[T], query: Query, columns: Mapping[str, Any], tiebreak: Any) -> Page[T]:
    """One page of ``statement``'s rows, sorted by ``query.sort`` (names mapped to ``columns``) and
    then by the unique ``tiebreak`` column, so pages never overlap; counted for the ``last`` link."""
    total = session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    ordered = statement
    for key in query.sort:
        column = columns[key.name]
        ordered = ordered.order_by(column.desc() if key.descending else column.asc())
    ordered = ordered.order_by(tiebreak)
    rows: Sequence[T] = session.execute(ordered.offset(query.page.offset).limit(query.page.size)).scalars().all()
    return Page.counted(rows, query.page, total)


def collection_document(
    request: Request, page: Page[Any], data: list[ResourceObject], included: Includer | None = None
) -> dict[str, Any]:
    """The document of one page of a collection, with pagination links and ``meta.count``."""
    return document(data, included=included, links=pagination_links(request, page), meta=page.meta())
