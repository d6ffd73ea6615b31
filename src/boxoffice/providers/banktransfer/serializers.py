"""JSON:API resource objects of statement imports (``bank-imports``) and lines (``bank-transactions``)."""

from __future__ import annotations

from typing import Any

from boxoffice.jobs.models import Job
from boxoffice.kit.jsonapi import ResourceObject, rel_to_many, rel_to_one, resource_object
from boxoffice.kit.money import format_amount
from boxoffice.providers.banktransfer.models import BankImport, BankTransaction

IMPORT_FIELDS = frozenset(
    {"filename", "format", "encoding", "state", "progress", "lines", "counts", "skipped-rows", "duplicates",
     "error", "created-by", "created-at", "finished-at", "event", "job", "bank-transactions"}
)  # fmt: skip
TRANSACTION_FIELDS = frozenset(
    {"position", "booked-on", "amount", "currency", "payer-name", "payer-iban", "payer-bic", "remittance",
     "bank-transaction-id", "state", "reason", "matches", "created-at", "resolved-by", "resolved-at",
     "event", "bank-import", "orders", "payments", "refunds", "duplicate-of"}
)  # fmt: skip


def import_resource(bank_import: BankImport, job: Job | None, fields: frozenset[str] | None = None) -> ResourceObject:
    """An import with its job's state and progress; the lines are a related collection."""
    event_id = bank_import.event_id
    return resource_object(
        "bank-imports",
        bank_import.id,
        {
            "filename": bank_import.filename,
            "format": bank_import.format,
            "encoding": bank_import.encoding,
            "state": job.state if job is not None else ("failed" if bank_import.error else "done"),
            "progress": job.progress if job is not None else bank_import.lines,
            "lines": bank_import.lines,
            "counts": bank_import.counts,
            "skipped_rows": bank_import.skipped_rows,
            "duplicates": bank_import.duplicates,
            "error": bank_import.error,
            "created_by": bank_import.created_by,
            "created_at": bank_import.created_at,
            "finished_at": bank_import.finished_at,
        },
        {
            "event": rel_to_one("events", event_id, f"/v1/events/{event_id}"),
            "job": rel_to_one(
                "jobs", bank_import.job_id, f"/v1/jobs/{bank_import.job_id}" if bank_import.job_id else None
            ),
            "bank_transactions": rel_to_many(
                "bank-transactions",
                None,
                f"/v1/events/{event_id}/bank-transactions?filter[bank-import]={bank_import.id}",
            ),
        },
        links={"self": f"/v1/bank-imports/{bank_import.id}"},
        fields=fields,
    )


def transaction_resource(transaction: BankTransaction, fields: frozenset[str] | None = None) -> ResourceObject:
    """A statement line, what it paid (``matches``) and why it is in its state (``reason``)."""
    matches = transaction.matches
    currency = transaction.currency
    described: list[dict[str, Any]] = [
        {
            "order": str(m.order_id),
            "payment": str(m.payment_id) if m.payment_id is not None else None,
            "refund": str(m.refund_id) if m.refund_id is not None else None,
            "amount": format_amount(m.amount, currency),
        }
        for m in matches
    ]
    duplicate_of = transaction.duplicate_of_id
    return resource_object(
        "bank-transactions",
        transaction.id,
        {
            "position": transaction.position,
            "booked_on": transaction.booked_on,
            "amount": format_amount(transaction.amount, currency),
            "currency": currency,
            "payer_name": transaction.payer_name,
            "payer_iban": transaction.payer_iban,
            "payer_bic": transaction.payer_bic,
            "remittance": transaction.remittance,
            "bank_transaction_id": transaction.bank_transaction_id,
            "state": transaction.state,
            "reason": transaction.reason,
            "matches": described,
            "created_at": transaction.created_at,
            "resolved_by": transaction.resolved_by,
            "resolved_at": transaction.resolved_at,
        },
        {
            "event": rel_to_one("events", transaction.event_id, f"/v1/events/{transaction.event_id}"),
            "bank_import": rel_to_one(
                "bank-imports", transaction.import_id, f"/v1/bank-imports/{transaction.import_id}"
            ),
            "orders": rel_to_many("orders", sorted({m.order_id for m in matches})),
            "payments": rel_to_many("payments", [m.payment_id for m in matches if m.payment_id is not None]),
            "refunds": rel_to_many("refunds", [m.refund_id for m in matches if m.refund_id is not None]),
            "duplicate_of": rel_to_one(
                "bank-transactions",
                duplicate_of,
                f"/v1/bank-transactions/{duplicate_of}" if duplicate_of is not None else None,
            ),
        },
        links={"self": f"/v1/bank-transactions/{transaction.id}"},
        fields=fields,
    )
