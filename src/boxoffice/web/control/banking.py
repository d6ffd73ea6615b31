"""Bank transfers: upload a statement, see what each line became, assign waiting lines to orders."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.db import unit_of_work
from boxoffice.errors import DomainError, InvalidValue, NotFound
from boxoffice.providers.banktransfer import repository as bank
from boxoffice.providers.banktransfer import service as bank_service
from boxoffice.providers.banktransfer.importing import mapping_from_columns, run_import, start_import
from boxoffice.providers.banktransfer.rules import OPEN_STATES, TransactionState
from boxoffice.web.control.panel import Panel, open_panel
from boxoffice.web.flash import redirect
from boxoffice.web.http import Form, checked, field_errors, page, text, upload
from boxoffice.web.orderview import find_order
from boxoffice.web.templating import render

router = APIRouter()
BANK = "/{organizer}/{event}/bank/"
PAGE_SIZE = 50
# Statements up to this size are imported while the organizer waits, so the result shows at once;
# larger ones go to the job queue and the page shows the job's progress.
IMPORT_NOW_BYTES = 2 * 1024 * 1024
STATES = tuple(s.value for s in TransactionState if s != TransactionState.IMPORTED)


def _bank_page(
    request: Request, session: Session, panel: Panel, *, error: DomainError | None = None,
    form_id: str | None = None, status_code: int = 200,
) -> Response:
    params = request.query_params
    state = params.get("state", "open")
    states = sorted(OPEN_STATES) if state == "open" else ([state] if state in STATES else [])
    query = bank.transactions_query(panel.event.id, states=states)
    number = int(params["page"]) if params.get("page", "").isdigit() and int(params["page"]) > 0 else 1
    total = bank.count(session, query)
    context = {
        "panel": panel, "imports": bank.page(session, bank.imports_query(panel.event.id), offset=0, limit=10),
        "transactions": bank.page(session, query, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE),
        "total": total, "number": number, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "state": state, "states": STATES, "open_states": OPEN_STATES,
        "error": error, "errors": field_errors(error), "form_id": form_id,
    }
    return render(request, "control/bank.html", context, status_code=status_code)


@router.get(BANK)
@page
def bank_page(request: Request, organizer: str, event: str) -> Response:
    with unit_of_work() as session:
        return _bank_page(request, session, open_panel(request, session, organizer, event, "bank"))


def _refused(request: Request, organizer: str, event: str, exc: DomainError, form_id: str) -> Response:
    with unit_of_work() as session:
        panel = open_panel(request, session, organizer, event, "bank")
        return _bank_page(request, session, panel, error=exc, form_id=form_id, status_code=exc.status)


# The columns the import form lets an organizer name, for a CSV whose columns are not recognised.
FORM_COLUMNS = ("booked-on", "amount", "debit", "credit", "remittance", "payer-name")


def _form_mapping(form: Form) -> dict[str, object] | None:
    """The import form's column mapping (None when no column is named); remittance takes a comma list."""
    pairs = [
        (name, column)
        for name in FORM_COLUMNS
        for column in (text(form, f"column-{name}").split(",") if name == "remittance" else [text(form, f"column-{name}")])
        if column.strip()
    ]
    return mapping_from_columns(
        pairs, date_format=text(form, "date-format") or None,
        decimal_comma=True if checked(form, "decimal-comma") else None, skip_rows=None,
    )  # fmt: skip


@router.post(BANK + "import")
@page
def import_statement(request: Request, organizer: str, event: str, form: Form) -> Response:
    statement = upload(form, "statement")
    try:
        if statement is None:
            raise InvalidValue("Choose the statement file to upload (CSV or CAMT.053 XML).", pointer="statement")
        mapping = _form_mapping(form)
        content = statement.file.read()
        now_ = len(content) <= IMPORT_NOW_BYTES
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "bank", admin=True)
            bank_import = start_import(
                session, panel.event.id, filename=statement.filename or "statement", content=content,
                actor=panel.principal.actor, mapping=mapping, background=not now_,
            )
            import_id = bank_import.id
    except DomainError as exc:
        return _refused(request, organizer, event, exc, "import")
    target = f"/control/{organizer}/{event}/bank/"
    if not now_:
        return redirect(target, "The statement is being imported; this page shows its progress.")
    report = run_import(import_id)
    if report.error:
        return redirect(target, f"The statement could not be imported: {report.error}")
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report.counts.items())) or "no lines"
    skipped = f"; {len(report.skipped_rows)} rows skipped" if report.skipped_rows else ""
    return redirect(target, f"Imported {report.filename}: {report.lines} lines ({counts}){skipped}.")


@router.post(BANK + "{transaction_id}/assign")
@page
def assign(request: Request, organizer: str, event: str, transaction_id: int, form: Form) -> Response:
    code = text(form, "order").upper()
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "bank", admin=True)
            transaction = bank.get_transaction(session, transaction_id)
            if transaction.event_id != panel.event.id:
                raise NotFound(f"Bank transaction {transaction_id} does not exist.")
            if not code:
                raise InvalidValue("Enter the order code to assign the line to.", pointer="order")
            try:
                order = find_order(session, panel.event, code)
            except NotFound:
                raise InvalidValue(f"There is no order {code} in this event.", pointer="order") from None
            bank_service.assign(session, transaction.id, order.id, actor=panel.principal.actor)
    except DomainError as exc:
        return _refused(request, organizer, event, exc, f"assign-{transaction_id}")
    return redirect(f"/control/{organizer}/{event}/bank/", f"The line is booked on order {code}.")


@router.post(BANK + "{transaction_id}/discard")
@page
def discard(request: Request, organizer: str, event: str, transaction_id: int, form: Form) -> Response:
    try:
        with unit_of_work() as session:
            panel = open_panel(request, session, organizer, event, "bank", admin=True)
            transaction = bank.get_transaction(session, transaction_id)
            if transaction.event_id != panel.event.id:
                raise NotFound(f"Bank transaction {transaction_id} does not exist.")
            bank_service.discard(session, transaction.id, actor=panel.principal.actor, comment=text(form, "comment") or None)
    except DomainError as exc:
        return _refused(request, organizer, event, exc, f"assign-{transaction_id}")
    return redirect(f"/control/{organizer}/{event}/bank/", "The line is discarded.")
