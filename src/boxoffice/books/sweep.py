"""Personal data copied into other domains' tables: found through the schema, cut out the same way.

Mails keep their recipients, provider callbacks their payloads, bank transactions the payer's
account: any table with a foreign key to an order, a payment or a refund may hold a copy of what the
shredder erases. Rather than every domain remembering to tell the shredder, the schema is read:
each such table's free-text and JSON columns are scrubbed for the order's known personal values and
for personal keys and shapes (:mod:`.privacy`). Columns in unique constraints are left alone — they
are identifiers, and rewriting them could collide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, select, update
from sqlalchemy.orm import Session

from boxoffice.books import privacy
from boxoffice.db import Base

# Shredded field by field by :mod:`.shred` itself.
OWN_TABLES = frozenset({"orders", "order_positions", "order_fees", "payments", "refunds", "audit_entries"})
TARGETS = ("orders", "payments", "refunds")


@dataclass(frozen=True)
class LinkedTable:
    """A table pointing at an order, payment or refund, and the columns that may hold copies."""

    table: Table
    link: Column[Any]
    target: str
    texts: tuple[Column[Any], ...]
    jsons: tuple[Column[Any], ...]


def _unique_columns(table: Table) -> set[str]:
    names = {c.name for c in table.columns if c.unique or c.primary_key}
    for constraint in table.constraints:
        if constraint.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint"):
            names |= {c.name for c in constraint.columns}  # type: ignore[attr-defined]
    for index in table.indexes:
        if index.unique:
            names |= {c.name for c in index.columns}
    return names


@lru_cache(maxsize=1)
def linked_tables() -> tuple[LinkedTable, ...]:
    """Every table (other than the shredder's own) linked to orders, payments or refunds."""
    from boxoffice import models_registry  # noqa: F401  (every table must be known)

    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in OWN_TABLES:
            continue
        unique = _unique_columns(table)
        free = [c for c in table.columns if c.name not in unique and not c.foreign_keys]
        texts = tuple(c for c in free if isinstance(c.type, String | Text))
        jsons = tuple(c for c in free if isinstance(c.type, JSON))
        if not texts and not jsons:
            continue
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name in TARGETS and fk.column.name == "id":
                    found.append(LinkedTable(table, column, fk.column.table.name, texts, jsons))
    return tuple(found)


@dataclass(frozen=True)
class LinkedRow:
    """One row of a linked table, with the order it belongs to."""

    linked: LinkedTable
    values: Mapping[Any, Any]  # column name -> value
    order_id: int

    @property
    def key(self) -> dict[str, Any]:
        return {c.name: self.values[c.name] for c in self.linked.table.primary_key.columns}


@dataclass(frozen=True)
class Change:
    """One row of another table that holds personal data: its values before and after scrubbing."""

    table: str
    key: dict[str, Any]
    order_id: int
    before: dict[str, Any]
    after: dict[str, Any]


def linked_rows(session: Session, owners: Mapping[str, Mapping[int, int]]) -> list[LinkedRow]:
    """The rows of linked tables that belong to a batch of orders.

    ``owners[target]`` maps the ids of orders, payments and refunds to their order's id.
    """
    found = []
    for linked in linked_tables():
        ids = owners.get(linked.target) or {}
        if not ids:
            continue
        primary = list(linked.table.primary_key.columns)
        statement = select(*primary, linked.link, *linked.texts, *linked.jsons).where(linked.link.in_(list(ids)))
        for row in session.execute(statement).mappings():
            found.append(LinkedRow(linked, row, ids[row[linked.link.name]]))
    return found


def harvest(rows: Sequence[LinkedRow], policy: privacy.Policy) -> dict[int, set[str]]:
    """Per order, the personal values the rows' JSON keeps under personal keys (a provider callback
    naming the payer, say), so their copies elsewhere go as well."""
    found: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        for column in row.linked.jsons:
            found[row.order_id] |= privacy.harvest(row.values[column.name], policy)
    return found


def find_changes(rows: Sequence[LinkedRow], known: Mapping[int, set[str]], policy: privacy.Policy) -> Iterator[Change]:
    """The rows that scrubbing would change, given each order's known personal values."""
    for row in rows:
        values = known.get(row.order_id, set())
        before, after = {}, {}
        for column in [*row.linked.texts, *row.linked.jsons]:
            old = row.values[column.name]
            if old is None:
                continue
            new = privacy.cut(old, values, policy) if isinstance(old, str) else privacy.scrub(old, values, policy)
            if new != old:
                before[column.name], after[column.name] = old, new
        if after:
            yield Change(row.linked.table.name, row.key, row.order_id, before, after)


def apply_changes(session: Session, changes: Sequence[Change]) -> dict[int, dict[str, int]]:
    """Write the scrubbed values; return per order how many rows of which table changed."""
    tables = {linked.table.name: linked.table for linked in linked_tables()}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for change in changes:
        table = tables[change.table]
        condition = [table.c[name] == value for name, value in change.key.items()]
        session.execute(update(table).where(*condition).values(**change.after))
        counts[change.order_id][change.table] += 1
    return {order_id: dict(per_table) for order_id, per_table in counts.items()}
