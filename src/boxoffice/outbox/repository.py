"""Queries of the outbox, and the insert-or-skip that makes unique keys do the deduplicating."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from boxoffice.db import Base, dialect_insert


def insert_or_skip(
    session: Session, model: type[Base], values: Mapping[str, Any], *, unique: Sequence[str]
) -> int | None:
    """Insert one row and return its id, or None when a row with the same ``unique`` columns exists.

    ``INSERT … ON CONFLICT DO NOTHING``: a racing transaction that inserted the same key first makes
    this one wait for its outcome, then skip — no error, no aborted transaction, no duplicate.
    """
    table = model.__table__
    assert isinstance(table, Table)
    statement = (
        dialect_insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()
