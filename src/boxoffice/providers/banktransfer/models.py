"""Tables of bank transfers: statement imports, their lines (bank transactions) and what each line paid.

A statement line is stored once per event: ``checksum`` (the line's normalized content and its
occurrence in the file) and ``booking_key`` (the bank's transaction id with date and amount) are
unique per event, so importing the same statement twice — or the same booking through another
export format — never counts money twice. What a matched line did to which orders is in
:class:`BankTransactionMatch`: a transfer may pay several orders, each through its own payment.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db import Amount, Base, UTCDateTime
from boxoffice.kit.clock import now


class BankImport(Base):
    """One uploaded statement file and what importing it did (its progress lives in its job)."""

    __tablename__ = "bank_imports"
    __table_args__ = (Index("ix_bank_imports_event_created", "event_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    # Set once the file has been read: "csv", "camt.053", …, and the text encoding found.
    format: Mapped[str | None] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(32))
    # The uploaded bytes, kept only until the import has run (they hold payer names and IBANs).
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A CSV column mapping given with the upload (ColumnMapping's fields), or None to detect columns.
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Lines read, and what the import made of them: transaction state (or "already-imported") → count.
    lines: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Rows the parser could not read: [{"location", "reason", "raw"}], and lines not counted again.
    skipped_rows: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    duplicates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Why the file as a whole could not be imported (nothing of it was then).
    error: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BankTransaction(Base):
    """One line of an organizer's bank statement. ``amount`` is signed: negative = money going out."""

    __tablename__ = "bank_transactions"
    __table_args__ = (
        UniqueConstraint("event_id", "checksum"),
        UniqueConstraint("event_id", "booking_key"),
        Index("ix_bank_transactions_event_state", "event_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_imports.id"), index=True)
    # 1-based position among the lines the parser read from the file.
    position: Mapped[int]
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    payer_name: Mapped[str] = mapped_column(String(200), default="")
    payer_iban: Mapped[str] = mapped_column(String(64), default="")
    payer_bic: Mapped[str] = mapped_column(String(16), default="")
    remittance: Mapped[str] = mapped_column(Text, default="")
    bank_transaction_id: Mapped[str | None] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))
    # sha256 of the bank transaction id, date, amount and currency; None without a usable id.
    booking_key: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="imported")
    reason: Mapped[str] = mapped_column(String(2000), default="")
    # For an "already-imported" line: the line it repeats.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Who assigned or discarded the line by hand, and when.
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    matches: Mapped[list[BankTransactionMatch]] = relationship(
        back_populates="transaction", order_by="BankTransactionMatch.id"
    )


class BankTransactionMatch(Base):
    """Money of one statement line put to one order: a payment in, or a refund out."""

    __tablename__ = "bank_transaction_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("bank_transactions.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), index=True)
    # Always positive; the transaction's sign says which way the money went.
    amount: Mapped[Decimal] = mapped_column(Amount)

    transaction: Mapped[BankTransaction] = relationship(back_populates="matches")
