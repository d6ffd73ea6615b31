"""The books under ``/v1``: an event's exports, its verification report, and the data shredder.

Exports and the download of personal data stream (the rows are read in their own session while the
response is sent), so a large event never sits in memory. The organizer's team reads exports and
the report; only admins download personal data and shred.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi import Query as QueryParam
from starlette.responses import Response, StreamingResponse

from boxoffice.api import access
from boxoffice.api.context import Reader, Writer
from boxoffice.api.fields import ResourceId, no_client_id
from boxoffice.books import exports
from boxoffice.books.personal import personal_data_download
from boxoffice.books.schemas import ShredRequest, VerificationDocument
from boxoffice.books.shred import start_shred
from boxoffice.books.verify import verify
from boxoffice.books.writers import FORMATS
from boxoffice.db import session_factory
from boxoffice.jobs.schemas import JobDocument
from boxoffice.jobs.serializers import job_resource
from boxoffice.kit.http import READ_ERRORS, JSONAPIResponse, error_responses
from boxoffice.kit.jsonapi import document, rel_to_one, resource_object
from boxoffice.kit.openapi import file_responses

router = APIRouter(tags=["books"])

_NO_STORE = {"Cache-Control": "no-store"}


def _download(chunks: Iterator[bytes], media_type: str, filename: str) -> StreamingResponse:
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


@router.get(
    "/v1/events/{event_id}/exports/{kind}",
    response_class=StreamingResponse,
    responses=file_responses((media for media, _ in FORMATS.values()), 400, 401, 403, 404),
    summary="An export of the event's books: orders, payments, refunds or bank-transactions",
    description="Streamed as it is read, in `csv` (UTF-8 with a byte-order mark; text cells that a spreadsheet "
    "would run as a formula start with `'`), `xlsx` or `json` (an array of objects). Amounts are decimal "
    "strings in the event's currency, timestamps RFC 3339 UTC. `orders` carries each order's balance: "
    "`payment_total`, `refund_total`, `pending_sum`, `payment_state`, and what is `overpaid` (owed back) or "
    "`underpaid` (missing on a paid order). Test-mode orders, with their payments and refunds, are left out "
    "unless `include-test-mode=true`.",
)
def export(
    event_id: ResourceId,
    kind: str,
    call: Reader,
    fmt: Annotated[Literal["csv", "xlsx", "json"], QueryParam(alias="format")] = "csv",
    include_test_mode: Annotated[
        bool,
        QueryParam(
            alias="include-test-mode", description="Also export test-mode orders and their payments and refunds."
        ),
    ] = False,
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        name = exports.file_name(event.organizer.slug, event.slug, kind, fmt)
    # After the unit: the stream reads in a session of its own (SQLite allows one open transaction).
    chunks = exports.export_stream(session_factory(), event.id, kind, fmt, include_test_mode=include_test_mode)
    return _download(chunks, exports.media_type(fmt), name)


@router.get(
    "/v1/events/{event_id}/books-verification",
    response_model=VerificationDocument,
    responses=READ_ERRORS,
    summary="Recheck the event's books from first principles",
    description="Balances against payments and refunds, quotas against seats held, refunds against their "
    "payments, the audit trail of every state, and the exports against the database's sums. `ok` is false "
    "when any check found drift; each drift names its subject, what is stored and what was expected.",
)
def books_verification(event_id: ResourceId, call: Reader) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id)
        report = verify(tx.session, event_id=event.id).as_dict()
        resource = resource_object(
            "books-verifications",
            event.id,
            report,
            {"event": rel_to_one("events", event.id, f"/v1/events/{event.id}")},
            links={"self": f"/v1/events/{event.id}/books-verification"},
        )
        return JSONAPIResponse(document(resource))


@router.get(
    "/v1/events/{event_id}/personal-data",
    response_class=StreamingResponse,
    responses=file_responses(["application/zip"], 400, 401, 403, 404),
    summary="Everything a shred of the event would erase, as a ZIP (admins)",
    description="Download this before shredding: `personal-data.json` lists, order by order, the buyer's "
    "e-mail and attendee names (with `include-orders=true`), each payment's and refund's provider data, and "
    "every copy of them in refund comments, audit entries and other records; `bank-transactions.json` the "
    "event's bank statement lines; `manifest.json` what, when and for which event.",
)
def personal_data(
    event_id: ResourceId,
    call: Reader,
    include_orders: Annotated[bool, QueryParam(alias="include-orders")] = False,
) -> Response:
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True)
    name, chunks = personal_data_download(session_factory(), event.id, include_orders=include_orders)
    return _download(chunks, "application/zip", name)


@router.post(
    "/v1/events/{event_id}/shred",
    status_code=202,
    response_model=JobDocument,
    responses=error_responses(400, 401, 403, 404, 409, 415, 422),
    summary="Erase the event's personal data (admins)",
    description="Payment details always (card data, payer names, IBANs, e-mail addresses in provider data, "
    "bank statement lines); with `include-orders`, also buyers' e-mail addresses and attendee names. Copies "
    "in audit entries and other records go too; amounts, states and dates stay, so the books still balance, "
    "and each order's audit log records who shredded what. Only after the event has ended, unless `force`; "
    "never while refunds are open (409 `shred-refused` says why). Runs as a job: follow `/v1/jobs/{id}`. "
    "Download `/v1/events/{id}/personal-data` first: what is shredded cannot be brought back.",
)
def shred(event_id: ResourceId, payload: ShredRequest, call: Writer) -> Response:
    no_client_id(payload.data.id)
    attributes = payload.data.attributes
    with call.unit() as tx:
        event = access.event(tx, event_id, admin=True)
        job = start_shred(
            tx.session, event.id, include_orders=attributes.include_orders, force=attributes.force, actor=tx.actor
        )
        response = JSONAPIResponse(document(job_resource(job)), status_code=202)
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return tx.respond(response)
