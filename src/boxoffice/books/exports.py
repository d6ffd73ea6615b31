"""Exports of one event's books: orders with their balances, payments, refunds, bank transactions.

One row generator per kind (a streamed query: ``yield_per`` batches, a server-side cursor on
PostgreSQL) feeds any of the three writers of :mod:`boxoffice.books.writers`, so a million rows
cost the memory of one batch. :func:`export_stream` is what the API streams and the CLI writes.
Test-mode orders, with their payments and refunds, are left out unless asked for (contract v1.1).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased

from boxoffice.books import rules
from boxoffice.books.repository import get_event
from boxoffice.books.writers import FORMATS, Column, Row, writer_for
from boxoffice.errors import InvalidValue, NotFound
from boxoffice.orders.models import Order
from boxoffice.payments.models import Payment, Refund

BATCH = 1000
SessionFactory = Callable[[], Session]
Progress = Callable[[int], None]


class KindQuery(Protocol):
    """The query of one event's rows of a kind, with or without its test-mode orders."""

    def __call__(self, event_id: int, *, include_test_mode: bool = False) -> Select: ...


@dataclass(frozen=True)
class ExportKind:
    """What one kind of export contains: its columns, the query of one event's rows (in a stable
    order), and how a query row becomes an exported row (given the event's currency)."""

    name: str
    columns: tuple[Column, ...]
    query: KindQuery
    shape: Callable[[Any, str], Row]


def _event_orders(event_id: int, include_test_mode: bool) -> list[ColumnElement[bool]]:
    """Which orders an export covers: the event's, its test-mode ones only when asked for."""
    if include_test_mode:
        return [Order.event_id == event_id]
    return [Order.event_id == event_id, Order.test_mode.is_(False)]


# -- orders ---------------------------------------------------------------------------------------

ORDER_COLUMNS = (
    Column("code"),
    Column("email"),
    Column("status"),
    Column("currency"),
    Column("total", "amount"),
    Column("payment_total", "amount"),
    Column("refund_total", "amount"),
    Column("pending_sum", "amount"),
    Column("payment_state"),
    Column("overpaid", "amount"),
    Column("underpaid", "amount"),
    Column("has_open_refund", "bool"),
    Column("payment_mode"),
    Column("created_at", "datetime"),
    Column("expires_at", "datetime"),
    Column("paid_at", "datetime"),
    Column("canceled_at", "datetime"),
)


def _orders_query(event_id: int, *, include_test_mode: bool = False) -> Select:
    return (
        select(
            Order.code,
            Order.email,
            Order.status,
            Order.total,
            Order.payment_total,
            Order.refund_total,
            Order.pending_sum,
            Order.payment_state,
            Order.has_open_refund,
            Order.payment_mode,
            Order.created_at,
            Order.expires_at,
            Order.paid_at,
            Order.canceled_at,
        )
        .where(*_event_orders(event_id, include_test_mode))
        .order_by(Order.id)
    )


def _order_row(r: Any, currency: str) -> Row:
    (
        code,
        email,
        status,
        total,
        paid,
        refunded,
        pending,
        state,
        open_refund,
        mode,
        created,
        expires,
        paid_at,
        canceled,
    ) = r
    net = paid - refunded
    return (
        code,
        email,
        status,
        currency,
        total,
        paid,
        refunded,
        pending,
        state,
        rules.overpaid_amount(total=total, net_paid=net),
        rules.underpaid_amount(total=total, net_paid=net, status=status),
        open_refund,
        mode,
        created,
        expires,
        paid_at,
        canceled,
    )


# -- payments -------------------------------------------------------------------------------------

PAYMENT_COLUMNS = (
    Column("full_id"),
    Column("order_code"),
    Column("provider"),
    Column("currency"),
    Column("amount", "amount"),
    Column("state"),
    Column("created_at", "datetime"),
    Column("payment_date", "datetime"),
    Column("provider_reference"),
)


def _payments_query(event_id: int, *, include_test_mode: bool = False) -> Select:
    return (
        select(
            Order.code,
            Payment.local_id,
            Payment.provider,
            Payment.amount,
            Payment.state,
            Payment.created_at,
            Payment.payment_date,
            Payment.provider_reference,
        )
        .join(Order, Payment.order_id == Order.id)
        .where(*_event_orders(event_id, include_test_mode))
        .order_by(Payment.id)
    )


def _payment_row(r: Any, currency: str) -> Row:
    code, local_id, provider, amount, state, created, paid_on, reference = r
    return (f"{code}-P-{local_id}", code, provider, currency, amount, state, created, paid_on, reference)


# -- refunds --------------------------------------------------------------------------------------

REFUND_COLUMNS = (
    Column("full_id"),
    Column("order_code"),
    Column("payment_full_id"),
    Column("provider"),
    Column("currency"),
    Column("amount", "amount"),
    Column("state"),
    Column("source"),
    Column("comment"),
    Column("created_at", "datetime"),
    Column("execution_date", "datetime"),
    Column("provider_reference"),
)

_PaymentOrder = aliased(Order)


def _refunds_query(event_id: int, *, include_test_mode: bool = False) -> Select:
    # Outer joins: a refund recorded without a payment (money returned outside boxoffice) is still money.
    return (
        select(
            Order.code,
            Refund.local_id,
            _PaymentOrder.code.label("payment_code"),
            Payment.local_id.label("payment_local_id"),
            Refund.provider,
            Refund.amount,
            Refund.state,
            Refund.source,
            Refund.comment,
            Refund.created_at,
            Refund.execution_date,
            Refund.provider_reference,
        )
        .join(Order, Refund.order_id == Order.id)
        .outerjoin(Payment, Refund.payment_id == Payment.id)
        .outerjoin(_PaymentOrder, Payment.order_id == _PaymentOrder.id)
        .where(*_event_orders(event_id, include_test_mode))
        .order_by(Refund.id)
    )


def _refund_row(r: Any, currency: str) -> Row:
    code, local_id, payment_code, payment_local_id, provider, amount, state, source, comment, *rest = r
    created, executed, reference = rest
    payment = f"{payment_code}-P-{payment_local_id}" if payment_local_id is not None else None
    full_id = f"{code}-R-{local_id}"
    return (full_id, code, payment, provider, currency, amount, state, source, comment, created, executed, reference)


# -- the registry ---------------------------------------------------------------------------------

KINDS: dict[str, ExportKind] = {
    "orders": ExportKind("orders", ORDER_COLUMNS, _orders_query, _order_row),
    "payments": ExportKind("payments", PAYMENT_COLUMNS, _payments_query, _payment_row),
    "refunds": ExportKind("refunds", REFUND_COLUMNS, _refunds_query, _refund_row),
}
# Modules that add kinds of their own tables through their ``register()``. They import this module,
# so they are loaded on first use rather than here.
KIND_MODULES: tuple[str, ...] = ("boxoffice.providers.banktransfer.exports",)
_kind_modules_loaded = False


def register_kind(kind: ExportKind) -> None:
    """Add an export kind (a provider's own tables, for example)."""
    KINDS[kind.name] = kind


def kinds() -> dict[str, ExportKind]:
    """Every export kind, the ones other modules add included."""
    global _kind_modules_loaded
    if not _kind_modules_loaded:
        for module in KIND_MODULES:
            importlib.import_module(module).register()
        _kind_modules_loaded = True
    return KINDS


def export_kind(name: str) -> ExportKind:
    """The kind called ``name``; 404 for an unknown one, with the known ones named."""
    kind = kinds().get(name)
    if kind is None:
        raise NotFound(
            f"There is no '{name}' export; choose one of {', '.join(sorted(KINDS))}.",
            parameter="kind",
            code="unknown-export",
        )
    return kind


def rows(
    session: Session, event_id: int, kind: ExportKind, currency: str, *, include_test_mode: bool = False
) -> Iterator[Row]:
    """The exported rows of one event, streamed in batches of :data:`BATCH`; test-mode orders' rows
    only with ``include_test_mode``.

    Run on the session's connection, not through the ORM: the rows are plain columns, and skipping
    the ORM's loading layer makes a large export a third cheaper.
    """
    query = kind.query(event_id, include_test_mode=include_test_mode)
    result = session.connection().execute(query.execution_options(yield_per=BATCH))
    for row in result:
        yield kind.shape(row, currency)


def count_rows(session: Session, event_id: int, kind: ExportKind, *, include_test_mode: bool = False) -> int:
    """How many rows an export of the event will have (for progress bars)."""
    query = kind.query(event_id, include_test_mode=include_test_mode).order_by(None)
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidValue(
            f"'{fmt}' is not an export format; choose one of {', '.join(FORMATS)}.",
            parameter="format",
            code="unknown-format",
        )


def media_type(fmt: str) -> str:
    _check_format(fmt)
    return FORMATS[fmt][0]


def file_name(organizer_slug: str, event_slug: str, kind: str, fmt: str) -> str:
    _check_format(fmt)
    return f"{organizer_slug}-{event_slug}-{kind}.{FORMATS[fmt][1]}"


def _counted(source: Iterator[Row], progress: Progress) -> Iterator[Row]:
    done = 0
    for row in source:
        yield row
        done += 1
        if done % BATCH == 0:
            progress(BATCH)
    progress(done % BATCH)


def export_stream(
    session_factory: SessionFactory,
    event_id: int,
    kind: str,
    fmt: str,
    *,
    progress: Progress | None = None,
    include_test_mode: bool = False,
) -> Iterator[bytes]:
    """The export of ``kind`` for one event in ``fmt`` (``csv``, ``xlsx``, ``json``) as byte chunks;
    test-mode orders (and their payments and refunds) only with ``include_test_mode``.

    Unknown kinds, formats and events are refused here, before the first byte, so an endpoint can
    answer with an error instead of a broken download. The rows are read in a session of their own,
    opened when the stream is consumed and closed when it ends (a streamed response outlives the
    request's unit of work). ``progress`` is called with the number of rows written since its last call.
    """
    export = export_kind(kind)
    _check_format(fmt)
    with session_factory() as session:
        currency = get_event(session, event_id).currency
    return _stream(session_factory, event_id, export, fmt, currency, progress, include_test_mode)


def _stream(
    session_factory: SessionFactory,
    event_id: int,
    kind: ExportKind,
    fmt: str,
    currency: str,
    progress: Progress | None,
    include_test_mode: bool,
) -> Iterator[bytes]:
    with session_factory() as session:
        source = rows(session, event_id, kind, currency, include_test_mode=include_test_mode)
        if progress is not None:
            source = _counted(source, progress)
        yield from writer_for(fmt, kind.name)(kind.columns, source, currency)
