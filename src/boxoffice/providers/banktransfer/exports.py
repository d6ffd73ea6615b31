"""The ``bank-transactions`` export of the books: every statement line of an event, what became of it
and which orders it paid. The books' exporters stream it like their own kinds once it is registered
(:func:`register`), in CSV, XLSX or JSON; text cells are made formula-safe by their writers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from boxoffice.books.exports import ExportKind, register_kind
from boxoffice.books.writers import Column, Row
from boxoffice.orders.models import Order
from boxoffice.providers.banktransfer.models import BankTransaction, BankTransactionMatch

NAME = "bank-transactions"
COLUMNS = (
    Column("id", "int"),
    Column("bank_import", "int"),
    Column("position", "int"),
    Column("booked_on"),
    Column("currency"),
    Column("amount", "amount"),
    Column("state"),
    Column("orders"),
    Column("payer_name"),
    Column("payer_iban"),
    Column("payer_bic"),
    Column("remittance"),
    Column("bank_transaction_id"),
    Column("reason"),
    Column("created_at", "datetime"),
    Column("resolved_by"),
    Column("resolved_at", "datetime"),
)


def _query(event_id: int, *, include_test_mode: bool = False) -> Select:
    # Every statement line, whatever orders it paid: the lines are the bank's record, not the orders'.
    del include_test_mode
    t = BankTransaction
    paid = func.aggregate_strings(Order.code, " ")
    columns = (
        t.id, t.import_id, t.position, t.booked_on, t.currency, t.amount, t.state, paid, t.payer_name,
        t.payer_iban, t.payer_bic, t.remittance, t.bank_transaction_id, t.reason, t.created_at,
        t.resolved_by, t.resolved_at,
    )  # fmt: skip
    # One row per line, with the codes of the orders it paid (grouped by the primary key).
    return (
        select(*columns)
        .outerjoin(BankTransactionMatch, BankTransactionMatch.transaction_id == t.id)
        .outerjoin(Order, Order.id == BankTransactionMatch.order_id)
        .where(t.event_id == event_id)
        .group_by(t.id)
        .order_by(t.id)
    )


def _row(r: Any, currency: str) -> Row:
    values = list(r)
    values[3] = values[3].isoformat()  # booked_on: a calendar day, not a moment
    values[7] = " ".join(sorted(set((values[7] or "").split())))
    return tuple(values)


BANK_TRANSACTIONS = ExportKind(NAME, COLUMNS, _query, _row)


def register() -> None:
    """Make ``bank-transactions`` one of the books' export kinds (idempotent)."""
    register_kind(BANK_TRANSACTIONS)
