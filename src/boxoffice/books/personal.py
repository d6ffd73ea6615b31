"""The download offered before shredding: every piece of personal data the shred will remove.

A ZIP (streamed; nothing is held beyond one batch of orders) with ``personal-data.json`` — one
object per order that holds personal data: the buyer's e-mail and attendee names (when buyer data
is included), each attempt's provider data, refund comments, audit entries and other tables' rows
that mention it — the event's bank statement lines (``bank-transactions.json``), and
``manifest.json`` saying which event, which scope, when, and how much.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.books import exports, privacy, sweep
from boxoffice.books.repository import get_event
from boxoffice.books.shred import OrderRecords, known_values, load_records, policy_for
from boxoffice.books.writers import write_json
from boxoffice.catalogue.models import Organizer
from boxoffice.kit.clock import now
from boxoffice.kit.jsonapi import serialize_value
from boxoffice.orders.models import Order

BATCH = 500
# Exports of event-level tables the shred erases personal data from (not tied to one order).
EVENT_LEVEL_KINDS = ("bank-transactions",)
SessionFactory = Callable[[], Session]


class _Pipe:
    """A write-only file for :mod:`zipfile` whose bytes are taken out as they come (no seeking:
    zipfile then writes sizes after each member, so the archive streams)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def order_personal_data(
    records: OrderRecords, known: set[str], *, include_orders: bool, linked: list[sweep.Change]
) -> dict[str, Any] | None:
    """What the shred will remove from one order, given its known personal values and its copies in
    other tables (``linked``); None when it holds nothing personal."""
    policy = policy_for(include_orders)
    found: dict[str, Any] = {}
    if include_orders:
        if records.order.email:
            found["email"] = records.order.email
        attendees = [{"position": p.id, "name": p.attendee_name} for p in records.positions if p.attendee_name]
        if attendees:
            found["attendees"] = attendees
    payments = [{"full_id": p.full_id, "provider": p.provider, "info": p.info} for p in records.payments if p.info]
    refunds = [
        {"full_id": r.full_id, "provider": r.provider, "info": r.info, "comment": r.comment}
        for r in records.refunds
        if r.info or (r.comment and privacy.cut(r.comment, known, policy) != r.comment)
    ]
    entries = [
        {"id": e.id, "action": e.action, "created_at": e.created_at, "data": e.data}
        for e in records.entries
        if privacy.scrub(e.data or {}, known, policy) != e.data
    ]
    copies = [{"table": c.table, "key": c.key, "values": c.before} for c in linked]
    for key, value in (("payments", payments), ("refunds", refunds), ("audit_entries", entries), ("copies", copies)):
        if value:
            found[key] = value
    return {"code": records.order.code, **found} if found else None


def _dumps(value: Any) -> str:
    return json.dumps(value, default=serialize_value, ensure_ascii=False, separators=(",", ":"))


def personal_data_download(
    session_factory: SessionFactory, event_id: int, *, include_orders: bool
) -> tuple[str, Iterator[bytes]]:
    """The file name and the streamed ZIP of the event's personal data (refuses an unknown event
    before the first byte). Reads only; the rows are read in a session of the stream's own."""
    with session_factory() as session:
        event = get_event(session, event_id)
        organizer = session.get(Organizer, event.organizer_id)
        name = f"{organizer.slug if organizer else event.organizer_id}/{event.slug}"
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    file_name = f"personal-data-{name.replace('/', '-')}-{stamp}.zip"
    return file_name, _stream(session_factory, event_id, name, include_orders)


def _stream(session_factory: SessionFactory, event_id: int, name: str, include_orders: bool) -> Iterator[bytes]:
    pipe = _Pipe()
    generated_at = now()
    orders_with_data = 0
    with session_factory() as session, zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("personal-data.json", "w", force_zip64=True) as member:
            member.write(b"[")
            separator = b"\n"
            last_id = 0
            while True:
                orders = list(
                    session.execute(
                        select(Order)
                        .where(Order.event_id == event_id, Order.id > last_id)
                        .order_by(Order.id)
                        .limit(BATCH)
                    ).scalars()
                )
                if not orders:
                    break
                batch = load_records(session, orders)
                known, copies = known_values(session, batch, include_orders=include_orders)
                linked: dict[int, list[sweep.Change]] = defaultdict(list)
                for change in sweep.find_changes(copies, known, policy_for(include_orders)):
                    linked[change.order_id].append(change)
                for records in batch:
                    found = order_personal_data(
                        records, known[records.order.id], include_orders=include_orders, linked=linked[records.order.id]
                    )
                    if found is not None:
                        member.write(separator + _dumps(found).encode())
                        separator = b",\n"
                        orders_with_data += 1
                last_id = orders[-1].id
                session.expunge_all()
                yield pipe.take()
            member.write(b"\n]\n")
        for kind_name in EVENT_LEVEL_KINDS:
            kind = exports.kinds().get(kind_name)
            if kind is None:
                continue
            with archive.open(f"{kind_name}.json", "w", force_zip64=True) as member:
                currency = get_event(session, event_id).currency
                for chunk in write_json(kind.columns, exports.rows(session, event_id, kind, currency), currency):
                    member.write(chunk)
                    yield pipe.take()
        manifest = {
            "event": name,
            "generated_at": generated_at,
            "scope": "payment details and buyer data" if include_orders else "payment details",
            "orders_with_personal_data": orders_with_data,
            "note": "Everything listed here is erased by the shred; amounts, states and dates stay.",
        }
        archive.writestr("manifest.json", _dumps(manifest))
    yield pipe.take()
