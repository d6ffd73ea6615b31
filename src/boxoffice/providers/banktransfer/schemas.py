"""Request and response documents of the bank transfer API (the response models only document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from boxoffice.kit.schemas import (
    Attributes,
    DecimalString,
    Relationships,
    RequestDocument,
    ResourceData,
    ToOne,
    list_response_model,
    resource_response_model,
)

# A column by its header or its 0-based index.
Column = Annotated[str, Field(min_length=1, max_length=200)] | Annotated[int, Field(ge=0, le=10_000)]


class ColumnMappingIn(Attributes):
    """Which CSV columns hold what, by header name or 0-based index (leave out to detect them)."""

    booked_on: Column = Field(description="The booking date's column.")
    remittance: Column | Annotated[list[Column], Field(min_length=1, max_length=20)] = Field(
        description="The transfer text's column (or several, joined)."
    )
    amount: Column | None = Field(default=None, description="A signed amount; or give debit and credit.")
    debit: Column | None = None
    credit: Column | None = None
    payer_name: Column | None = None
    payer_iban: Column | None = None
    payer_bic: Column | None = None
    currency: Column | None = None
    transaction_id: Column | None = None
    status: Column | None = Field(default=None, description="Rows whose status says 'pending' are skipped.")
    date_format: str | None = Field(default=None, description="A strptime format such as %d/%m/%Y.")
    decimal_comma: bool | None = None
    skip_rows: int | None = Field(default=None, ge=0, description="Rows before the first booking.")

    def as_mapping(self) -> dict[str, Any]:
        """The mapping as :class:`~.statement.ColumnMapping` takes it (Python names, set fields only)."""
        return {name: getattr(self, name) for name in self.model_fields_set if getattr(self, name) is not None}


class BankImportAttributesIn(Attributes):
    filename: str = Field(min_length=1, max_length=255, description="The file's name, for the organizer.")
    content: str = Field(
        description="The statement file, base64-encoded: a bank's CSV export or a camt.053 XML file (50 MB at most)."
    )
    column_mapping: ColumnMappingIn | None = Field(
        default=None, description="For CSV files the columns of which are not recognised."
    )


class BankImportData(ResourceData):
    type: Literal["bank-imports"]
    attributes: BankImportAttributesIn


class BankImportRequest(RequestDocument):
    """Upload a statement: a JSON:API document with the file as base64 (so Idempotency-Key replays work)."""

    data: BankImportData


class AssignRelationships(Relationships):
    order: ToOne[Literal["orders"]]


class AssignData(ResourceData):
    type: Literal["bank-transaction-assign"]
    relationships: AssignRelationships


class AssignRequest(RequestDocument):
    data: AssignData


class DiscardAttributes(Attributes):
    comment: str | None = Field(default=None, max_length=500, description="Why (e.g. 'bank fee').")


class DiscardData(ResourceData):
    type: Literal["bank-transaction-discard"]
    attributes: DiscardAttributes = Field(default_factory=DiscardAttributes)


class DiscardRequest(RequestDocument):
    data: DiscardData


class RefundAccountAttributes(Attributes):
    account_holder: str = Field(min_length=1, max_length=200)
    iban: str = Field(min_length=1, max_length=64)
    bic: str | None = Field(default=None, max_length=16)


class RefundAccountData(ResourceData):
    type: Literal["refund-bank-account"]
    attributes: RefundAccountAttributes


class RefundAccountRequest(RequestDocument):
    """The account a bank transfer refund is paid to (the buyer's), while the refund waits."""

    data: RefundAccountData


# -- responses -------------------------------------------------------------------------------------


class BankImportAttributes(Attributes):
    filename: str
    format: str | None = Field(description="csv, camt.053, camt.052 or camt.054, once read.")
    encoding: str | None
    state: Literal["queued", "running", "done", "failed"] = Field(description="The import job's state.")
    progress: int = Field(description="Lines done so far.")
    lines: int = Field(description="Lines read from the file.")
    counts: dict[str, int] = Field(description="What became of the lines: transaction state → lines.")
    skipped_rows: list[dict[str, str]] = Field(description="Rows that could not be read: location, reason, raw.")
    duplicates: list[dict[str, Any]] = Field(description="Lines not counted again, and the line they repeat.")
    error: str | None = Field(description="Why nothing (or not everything) was imported.")
    created_by: str
    created_at: datetime
    finished_at: datetime | None


class MatchOut(Attributes):
    order: str
    payment: str | None
    refund: str | None
    amount: DecimalString


class BankTransactionAttributes(Attributes):
    position: int = Field(description="The line's place among the lines of its file.")
    booked_on: date
    amount: DecimalString = Field(description="Negative: money going out.")
    currency: str
    payer_name: str
    payer_iban: str
    payer_bic: str
    remittance: str
    bank_transaction_id: str | None
    state: Literal["imported", "matched", "no-match", "invalid", "already-imported", "discarded"]
    reason: str = Field(description="Why the line is in its state, in words.")
    matches: list[MatchOut] = Field(description="What the line paid: orders with their payment or refund.")
    created_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None


BankImportDocument = resource_response_model(
    "bank-imports", BankImportAttributes, ["event", "job", "bank-transactions"]
)
BankImportListDocument = list_response_model(BankImportDocument)
BankTransactionDocument = resource_response_model(
    "bank-transactions",
    BankTransactionAttributes,
    ["event", "bank-import", "orders", "payments", "refunds", "duplicate-of"],
)
BankTransactionListDocument = list_response_model(BankTransactionDocument)
