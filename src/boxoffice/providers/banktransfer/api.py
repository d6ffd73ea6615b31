"""Bank transfers under ``/v1``: statement imports, their lines, assigning what matched nothing, and the
refund files for the organizer's bank.

Uploads are JSON:API documents carrying the file as base64, like every other write of the API: the
media type rules, ``Idempotency-Key`` replays and error pointers apply unchanged. The import then runs
as a job (answer 202); its progress is on the ``bank-imports`` resource and at ``/v1/jobs/{id}``.
Organizer admins import, assign, discard and export; staff read.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi import Query as QueryParam
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api import access
from boxoffice.api.context import Reader, Tx, Writer
from boxoffice.api.fields import ResourceId, no_client_id, related_id, resource_id_filter
from boxoffice.api.listing import collection_document, page_of
from boxoffice.errors import InvalidValue, NotFound
from boxoffice.jobs.models import Job
from boxoffice.jobs.serializers import job_resource
from boxoffice.kit.http import ACTION_ERRORS, READ_ERRORS, JSONAPIResponse
from boxoffice.kit.jsonapi import document
from boxoffice.kit.query import Query, QuerySpec, any_of
from boxoffice.payments.schemas import RefundDocument
from boxoffice.payments.serializers import refund_resource
from boxoffice.providers.banktransfer import importing, refunds, service
from boxoffice.providers.banktransfer import repository as repo
from boxoffice.providers.banktransfer.models import BankImport, BankTransaction
from boxoffice.providers.banktransfer.rules import TransactionState
from boxoffice.providers.banktransfer.schemas import (
    AssignRequest,
    BankImportDocument,
    BankImportListDocument,
    BankImportRequest,
    BankTransactionDocument,
    BankTransactionListDocument,
    DiscardRequest,
    RefundAccountRequest,
)
from boxoffice.providers.banktransfer.serializers import (
    IMPORT_FIELDS,
    TRANSACTION_FIELDS,
    import_resource,
    transaction_resource,
)
from boxoffice.providers.banktransfer.statement import MAX_STATEMENT_BYTES, StatementError

router = APIRouter(tags=["bank transfers"])

CONTENT_POINTER = "/data/attributes/content"

IMPORTS = QuerySpec(
    "bank-imports", fields={"bank-imports": IMPORT_FIELDS}, sort={"created-at"}, default_sort="-created-at"
)
IMPORT = QuerySpec("bank-imports", fields={"bank-imports": IMPORT_FIELDS})
TRANSACTIONS = QuerySpec(
    "bank-transactions",
    fields={"bank-transactions": TRANSACTION_FIELDS},
    sort={"booked-on", "amount", "created-at"},
    default_sort="booked-on",
    filters={"state": any_of(*(s.value for s in TransactionState)), "bank-import": resource_id_filter},
)
TRANSACTION = QuerySpec("bank-transactions", fields={"bank-transactions": TRANSACTION_FIELDS})


def _import(tx: Tx, import_id: int, *, admin: bool = False) -> BankImport:
    found = tx.session.get(BankImport, import_id)
    missing = NotFound(f"Bank import {import_id} does not exist.", parameter="id")
    if found is None:
        raise missing
    access.event(tx, found.event_id, admin=admin)  # 404 for other organizers' imports
    return found


def _transaction(tx: Tx, transaction_id: int, *, admin: bool = False) -> BankTransaction:
    found = tx.session.get(BankTransaction, transaction_id)
    if found is None:
        raise NotFound(f"Bank transaction {transaction_id} does not exist.", parameter="id")
    access.event(tx, found.event_id, admin=admin)
    return found


def _job(tx: Tx, bank_import: BankImport) -> Job | None:
    return tx.session.get(Job, bank_import.job_id) if bank_import.job_id is not None else None


def _decoded(content: str) -> bytes:
    # Refused before decoding: base64 takes 4 characters for 3 bytes.
    if len(content) > (MAX_STATEMENT_BYTES // 3 + 1) * 4:
        raise StatementError(
            f"Statements larger than {MAX_STATEMENT_BYTES} bytes are refused. Export a shorter period.",
            pointer=CONTENT_POINTER,
        )
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidValue("The content is not base64.", pointer=CONTENT_POINTER, code="invalid-base64") from exc


# -- imports ---------------------------------------------------------------------------------------


@router.post(
    "/v1/events/{event_id}/bank-imports",
    status_code=202,
    response_model=BankImportDocument,
    responses=ACTION_ERRORS,
    summary="Import a bank statement (admins)",
    description="The file goes base64-encoded into `content`: a bank's CSV export (encoding, delimiter and "
    "columns are detected; give `column-mapping` when they are not) or a camt.053 XML statement. The answer "
    "is 202 with the `bank-imports` resource and its job (included); follow it at `/v1/bank-imports/{id}`. "
    "Each line is stored once per event: a file imported twice counts nothing twice. A file that cannot be "
    "read as a whole fails the job with the reason and imports nothing; unreadable rows are listed in "
    "`skipped-rows`.",
)
def create_import(event_id: ResourceId, payload: BankImportRequest, call: Writer) -> Response:
    data = payload.data
    no_client_id(data.id)
    mapping = data.attributes.column_mapping.as_mapping() if data.attributes.column_mapping else None
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True)
        content = _decoded(data.attributes.content)
        bank_import = importing.start_import(
            tx.session, event.id, filename=data.attributes.filename, content=content, actor=tx.actor, mapping=mapping
        )
        job = _job(tx, bank_import)
        included = [job_resource(job)] if job is not None else []
        response = JSONAPIResponse(document(import_resource(bank_import, job), included=included), status_code=202)
        response.headers["Location"] = f"/v1/bank-imports/{bank_import.id}"
        return tx.respond(response)


@router.get(
    "/v1/events/{event_id}/bank-imports",
    response_model=BankImportListDocument,
    responses=READ_ERRORS,
    summary="The event's statement imports, newest first",
)
def list_imports(
    request: Request, event_id: ResourceId, call: Reader, query: Annotated[Query, Depends(IMPORTS)]
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        statement = repo.imports_query(event.id).order_by(None)
        page = page_of(tx.session, statement, query, {"created-at": BankImport.created_at}, BankImport.id.desc())
        fields = query.fields_for("bank-imports")
        data = [import_resource(item, _job(tx, item), fields) for item in page.items]
        return JSONAPIResponse(collection_document(request, page, data))


@router.get("/v1/bank-imports/{import_id}", response_model=BankImportDocument, responses=READ_ERRORS)
def get_import(import_id: ResourceId, call: Reader, query: Annotated[Query, Depends(IMPORT)]) -> Response:
    with call.unit() as tx:
        found = _import(tx, import_id)
        return JSONAPIResponse(document(import_resource(found, _job(tx, found), query.fields_for("bank-imports"))))


# -- statement lines -------------------------------------------------------------------------------


@router.get(
    "/v1/events/{event_id}/bank-transactions",
    response_model=BankTransactionListDocument,
    responses=READ_ERRORS,
    summary="The event's statement lines",
    description="`filter[state]=no-match,invalid` lists what waits to be assigned or discarded; "
    "`filter[bank-import]` the lines of one import.",
)
def list_transactions(
    request: Request, event_id: ResourceId, call: Reader, query: Annotated[Query, Depends(TRANSACTIONS)]
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        statement = repo.transactions_query(
            event.id, states=sorted(query.filters.get("state", ())), import_id=query.filters.get("bank-import")
        ).order_by(None)
        columns = {
            "booked-on": BankTransaction.booked_on,
            "amount": BankTransaction.amount,
            "created-at": BankTransaction.created_at,
        }
        page = page_of(tx.session, statement, query, columns, BankTransaction.id)
        fields = query.fields_for("bank-transactions")
        return JSONAPIResponse(
            collection_document(request, page, [transaction_resource(t, fields) for t in page.items])
        )


@router.get("/v1/bank-transactions/{transaction_id}", response_model=BankTransactionDocument, responses=READ_ERRORS)
def get_transaction(
    transaction_id: ResourceId, call: Reader, query: Annotated[Query, Depends(TRANSACTION)]
) -> Response:
    with call.unit() as tx:
        found = _transaction(tx, transaction_id)
        return JSONAPIResponse(document(transaction_resource(found, query.fields_for("bank-transactions"))))


@router.post(
    "/v1/bank-transactions/{transaction_id}/assign",
    response_model=BankTransactionDocument,
    responses=ACTION_ERRORS,
    summary="Book a waiting statement line on an order (admins)",
    description="As if the transfer had named the order's reference: money in becomes a confirmed payment of "
    "the whole amount; money out completes the order's open refund of that amount, or is recorded as an "
    "external refund. 409 for a line that is already matched.",
)
def assign(transaction_id: ResourceId, payload: AssignRequest, call: Writer) -> Response:
    pointer = "/data/relationships/order/data/id"
    order_id = related_id(payload.data.relationships.order.data.id, "Order", pointer)
    with call.unit() as tx:
        _transaction(tx, transaction_id, admin=True)
        booked = service.assign(tx.session, transaction_id, order_id, actor=tx.actor)
        return tx.respond(JSONAPIResponse(document(transaction_resource(booked))))


@router.post(
    "/v1/bank-transactions/{transaction_id}/discard",
    response_model=BankTransactionDocument,
    responses=ACTION_ERRORS,
    summary="Set a waiting statement line aside: nothing for this event (admins)",
)
def discard(
    transaction_id: ResourceId, call: Writer, payload: Annotated[DiscardRequest | None, Body()] = None
) -> Response:
    comment = payload.data.attributes.comment if payload is not None else None
    with call.unit() as tx:
        _transaction(tx, transaction_id, admin=True)
        done = service.discard(tx.session, transaction_id, actor=tx.actor, comment=comment)
        return tx.respond(JSONAPIResponse(document(transaction_resource(done))))


# -- refunds ---------------------------------------------------------------------------------------


@router.post(
    "/v1/refunds/{refund_id}/bank-account",
    response_model=RefundDocument,
    responses=ACTION_ERRORS,
    summary="Give the account a bank transfer refund is paid to (the buyer or admins)",
    description="While the refund waits to be exported (`created`). Without it, the refund goes to the "
    "account the payment came from, when a bank statement showed it.",
)
def set_refund_account(refund_id: ResourceId, payload: RefundAccountRequest, call: Writer) -> Response:
    attrs = payload.data.attributes
    with call.unit() as tx:
        access.refund(tx, refund_id, buyer=True, admin=True)
        refund = service.set_refund_account(
            tx.session, refund_id, holder=attrs.account_holder, iban=attrs.iban, bic=attrs.bic, actor=tx.actor
        )
        return tx.respond(JSONAPIResponse(document(refund_resource(refund))))


def _refund_file(event_id: int, fmt: str, batch: str | None, call: Reader) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True)
        if batch:
            exported = refunds.export_again(tx.session, event.id, batch, fmt=fmt)
        else:
            exported = refunds.export_refunds(tx.session, event.id, fmt=fmt, actor=tx.actor)
    # Committed: the refunds are in transit. Should this answer get lost, ?batch= writes it again.
    headers = {
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
        "Boxoffice-Refund-Batch": exported.batch,
        "Boxoffice-Refunds": ",".join(exported.refunds),
        "Cache-Control": "no-store",
    }
    return Response(exported.content, media_type=exported.media_type, headers=headers)


_EXPORT_DESCRIPTION = (
    "Every bank transfer refund waiting to be paid (`created`) whose account is known goes into the file and "
    "becomes `transit`; the statement line of the money leaving later marks it done. The file's id is in "
    "the `Boxoffice-Refund-Batch` header; `?batch=<id>` writes that file again and changes nothing. 409 "
    "`no-refunds-to-export` when there is nothing to pay (its meta lists refunds waiting for an account)."
)
BatchParam = Annotated[str | None, QueryParam(max_length=35, description="Write an earlier file again.")]


@router.get(
    "/v1/events/{event_id}/bank-refunds.xml",
    response_class=JSONAPIResponse,  # how its errors are written; the file itself is application/xml
    responses={200: {"content": {"application/xml": {"schema": {"type": "string"}}}}, **ACTION_ERRORS},
    summary="Waiting refunds as a SEPA credit transfer file, pain.001 (admins; EUR)",
    description=_EXPORT_DESCRIPTION,
)
def refunds_xml(event_id: ResourceId, call: Reader, batch: BatchParam = None) -> Response:
    return _refund_file(event_id, "xml", batch, call)


@router.get(
    "/v1/events/{event_id}/bank-refunds.csv",
    response_class=JSONAPIResponse,  # how its errors are written; the file itself is text/csv
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}, **ACTION_ERRORS},
    summary="Waiting refunds as CSV (admins)",
    description=_EXPORT_DESCRIPTION,
)
def refunds_csv(event_id: ResourceId, call: Reader, batch: BatchParam = None) -> Response:
    return _refund_file(event_id, "csv", batch, call)
