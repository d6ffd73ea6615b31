"""Importing a bank statement: store the file, read it, store each line once, book what it pays.

An import is a job (:mod:`boxoffice.jobs`). :func:`start_import` keeps the uploaded file on a
``bank_imports`` row and records the job; :func:`run_import` does the work:

1. The file is read (:func:`.statement.parse_statement`). A file that cannot be read as a whole
   (wrong encoding, broken XML, no recognisable columns, too large) fails the job with the reason,
   and nothing of it is imported. Rows that cannot be read are listed with their reason.
2. The lines are stored and booked in batches, one transaction each, reporting progress. A line
   the event already has — same checksum, or same bank transaction id with the same date and amount
   — is never counted again: an identical line is not stored again (it is counted as
   ``already-imported`` and listed), while the same booking read differently from another export is
   stored as ``already-imported`` pointing at the first one, so the organizer can still assign it if
   it was another transfer after all.
3. If the work stops half-way (the process dies, the database goes away), the job fails saying how
   many lines were done; running it again (the outbox retries) continues where it stopped, because
   lines stored by this import are recognised and counted as they stand.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from boxoffice import db
from boxoffice.catalogue.models import Event
from boxoffice.errors import InvalidValue, NotFound
from boxoffice.jobs import service as jobs
from boxoffice.jobs.models import Job
from boxoffice.kit.clock import now
from boxoffice.providers.banktransfer import repository as repo
from boxoffice.providers.banktransfer.csvimport import MAPPED_FIELDS
from boxoffice.providers.banktransfer.models import BankImport
from boxoffice.providers.banktransfer.rules import DUPLICATE_COUNT, TransactionState, booking_keys, clip
from boxoffice.providers.banktransfer.service import BookingRefused, Matcher, book
from boxoffice.providers.banktransfer.statement import (
    ColumnMapping,
    ParseResult,
    StatementError,
    StatementLine,
    check_size,
    parse_csv,
    parse_statement,
)

log = logging.getLogger(__name__)

JOB_KIND = "banktransfer.import"
BATCH = 200
# How many repeated lines an import lists by name (all of them are counted).
LISTED_DUPLICATES = 200

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did, for the CLI's summary and the job's result (no personal data)."""

    import_id: int
    job_id: int | None
    filename: str
    format: str | None = None
    encoding: str | None = None
    lines: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    skipped_rows: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def of(cls, bank_import: BankImport) -> ImportReport:
        return cls(
            import_id=bank_import.id,
            job_id=bank_import.job_id,
            filename=bank_import.filename,
            format=bank_import.format,
            encoding=bank_import.encoding,
            lines=bank_import.lines,
            counts=dict(bank_import.counts),
            skipped_rows=list(bank_import.skipped_rows),
            duplicates=list(bank_import.duplicates),
            error=bank_import.error,
        )

    def job_result(self) -> dict[str, Any]:
        """The job's result: counts and the number of skipped rows (the rows are on the import)."""
        return {
            "bank-import": str(self.import_id),
            "format": self.format,
            "lines": self.lines,
            "counts": self.counts,
            "skipped": len(self.skipped_rows),
        }


def _mapping(raw: dict[str, Any] | None) -> ColumnMapping | None:
    if raw is None:
        return None
    fields = dict(raw)
    remittance = fields.get("remittance")
    if isinstance(remittance, list):
        fields["remittance"] = tuple(remittance)
    try:
        return ColumnMapping(**fields)
    except TypeError as exc:
        raise InvalidValue(
            f"The column mapping is not valid: {exc}.", pointer="/data/attributes/column-mapping"
        ) from exc
    except InvalidValue as exc:
        raise InvalidValue(exc.detail, pointer="/data/attributes/column-mapping") from exc


def mapping_from_columns(
    pairs: list[tuple[str, str]], *, date_format: str | None, decimal_comma: bool | None, skip_rows: int | None
) -> dict[str, Any] | None:
    """A column mapping from (field, column) pairs as people type them (the CLI's options, the panel's form).

    Fields may be written with dashes (``booked-on``); a column is a header or, written as digits,
    a 0-based index; ``remittance`` may be given several times (its columns are joined). None when
    no column is given.
    """
    found: dict[str, list[str | int]] = {}
    for name, column in pairs:
        key, text = name.strip().replace("-", "_"), column.strip()
        if key not in MAPPED_FIELDS or not text:
            raise InvalidValue(
                f"A column is given as FIELD=COLUMN, FIELD one of {', '.join(MAPPED_FIELDS)}; not {name}={column}.",
                parameter="column",
            )
        found.setdefault(key, []).append(int(text) if text.isdigit() else text)
    if not found:
        if date_format is not None or decimal_comma is not None or skip_rows is not None:
            raise InvalidValue("The date format, decimal comma and rows to skip go with named columns.", parameter="column")
        return None
    if any(len(columns) > 1 for key, columns in found.items() if key != "remittance"):
        raise InvalidValue("Only remittance may name several columns.", parameter="column")
    mapping: dict[str, Any] = {key: cols[0] if len(cols) == 1 else cols for key, cols in found.items()}
    options = {"date_format": date_format, "decimal_comma": decimal_comma, "skip_rows": skip_rows}
    return mapping | {key: value for key, value in options.items() if value is not None}


def start_import(
    session: Session,
    event_id: int,
    *,
    filename: str,
    content: bytes,
    actor: str,
    mapping: dict[str, Any] | None = None,
    background: bool = True,
) -> BankImport:
    """Keep an uploaded statement and record its import as a job.

    With ``background`` the job is queued for a worker (sent once the caller commits); otherwise
    the caller runs it with :func:`run_import`. Empty and oversized files and a broken column
    mapping are refused here (422), before anything is stored.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} does not exist.", parameter="id")
    try:
        check_size(content)
    except StatementError as exc:
        raise StatementError(exc.detail, pointer="/data/attributes/content") from exc
    _mapping(mapping)
    job = jobs.create_job(
        session,
        JOB_KIND,
        created_by=actor,
        organizer_id=event.organizer_id,
        event_id=event.id,
    )
    bank_import = BankImport(
        event_id=event.id,
        job_id=job.id,
        filename=clip(filename.strip() or "statement", 255),
        content=content,
        mapping=mapping,
        created_by=actor,
        counts={},
        skipped_rows=[],
        duplicates=[],
    )
    session.add(bank_import)
    session.flush()
    job.params = {"import_id": bank_import.id}
    if background:
        from boxoffice.outbox.service import enqueue
        from boxoffice.providers.banktransfer import tasks  # noqa: F401  (registers the task here)

        enqueue(session, JOB_KIND, {"import_id": bank_import.id}, dedupe_key=f"{JOB_KIND}:{bank_import.id}")
    return bank_import


def _parse(bank_import: BankImport, currency: str) -> ParseResult:
    data = bank_import.content or b""
    mapping = _mapping(bank_import.mapping)
    if mapping is not None:
        return parse_csv(data, mapping, default_currency=currency)
    result = parse_statement(data, bank_import.filename)
    if result.format == "csv" and currency != "EUR":
        # CSV exports without a currency column are in the account's currency: the event's.
        result = parse_csv(data, default_currency=currency)
    return result


def run_import(
    import_id: int, *, url: str | None = None, batch_size: int = BATCH, progress: Progress | None = None
) -> ImportReport:
    """Do the work of an import (see the module docstring); ``progress(done, total)`` after each batch.

    A file that cannot be read ends the job as failed with the reason and returns the report; any
    other failure is recorded on the job and raised, so the job can be run again to finish.
    """
    with db.unit_of_work(url) as session:
        bank_import = repo.get_import(session, import_id)
        if bank_import.finished_at is not None:  # done, or refused as unreadable: nothing more to do
            return ImportReport.of(bank_import)
        job = jobs.get_job(session, bank_import.job_id) if bank_import.job_id is not None else None
        event = session.get(Event, bank_import.event_id)
        assert event is not None  # events are never deleted
        try:
            parsed = _parse(bank_import, event.currency)
        except StatementError as exc:
            return _refuse(session, bank_import, job, exc)
        bank_import.format, bank_import.encoding = parsed.format, parsed.encoding
        bank_import.lines = len(parsed.lines)
        bank_import.skipped_rows = [asdict(row) for row in parsed.skipped]
        if job is not None:
            jobs.report_progress(session, job.id, progress=0, total=len(parsed.lines))
        report = ImportReport.of(bank_import)
    run = _Progress(report.job_result(), booking_keys(parsed.lines))
    done = 0
    try:
        for start in range(0, len(parsed.lines), batch_size):
            end = min(start + batch_size, len(parsed.lines))
            _import_batch(url, import_id, parsed.lines, range(start, end), run)
            done = end
            if progress is not None:
                progress(done, len(parsed.lines))
        with db.unit_of_work(url) as session:
            bank_import = repo.get_import(session, import_id)
            bank_import.content = None  # done: the file's personal data need not be kept
            bank_import.error = None  # an earlier run may have stopped half-way
            bank_import.finished_at = now()
            report = ImportReport.of(bank_import)
            if bank_import.job_id is not None:
                jobs.finish_job(session, bank_import.job_id, result=report.job_result())
            return report
    except Exception as exc:
        log.exception("Bank import %s stopped after %s of %s lines", import_id, done, len(parsed.lines))
        with db.unit_of_work(url) as session:
            bank_import = repo.get_import(session, import_id)
            message = (
                f"The import stopped after {done} of {len(parsed.lines)} lines ({type(exc).__name__}: {exc}); "
                "the lines before were imported. Run it again to import the rest; nothing is counted twice."
            )
            bank_import.error = message[:2000]
            if bank_import.job_id is not None:
                jobs.finish_job(session, bank_import.job_id, result={**report.job_result()}, error=message[:2000])
        raise


@dataclass
class _Progress:
    """What the batches of one run have done so far (their counts and listed duplicates), the job's
    result without them, the lines' booking keys, and the lines the services refused to book."""

    result: dict[str, Any]
    keys: list[str | None]
    counts: Counter[str] = field(default_factory=Counter)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, position: int, detail: str) -> None:
        super().__init__(detail)
        self.position, self.detail = position, detail


def _import_batch(
    url: str | None, import_id: int, lines: list[StatementLine], positions: range, run: _Progress
) -> None:
    """Store and book the lines at ``positions`` (0-based) in one transaction.

    When the services refuse to book a line, the whole batch is rolled back and done again with that
    line waiting for the organizer: no part of a refused booking is ever kept.
    """
    while True:
        counts: Counter[str] = Counter()
        duplicates: list[dict[str, Any]] = []
        try:
            with db.unit_of_work(url) as session:
                bank_import = repo.get_import(session, import_id)
                event = session.get(Event, bank_import.event_id)
                assert event is not None
                matcher = Matcher.for_event(session, event)
                for index in positions:
                    position = index + 1
                    state = _store_line(
                        session, matcher, bank_import, position, lines[index], run.keys[index], duplicates,
                        refused=run.refused.get(position),
                    )  # fmt: skip
                    counts[state] += 1
                bank_import.counts = dict(run.counts + counts)
                bank_import.duplicates = (run.duplicates + duplicates)[:LISTED_DUPLICATES]
                if bank_import.job_id is not None:
                    result = {**run.result, "counts": bank_import.counts}
                    jobs.report_progress(session, bank_import.job_id, progress=positions.stop, result=result)
        except _Refused as refusal:
            run.refused[refusal.position] = refusal.detail
            continue
        run.counts += counts
        run.duplicates += duplicates
        return


def _refuse(session: Session, bank_import: BankImport, job: Job | None, exc: StatementError) -> ImportReport:
    """The file as a whole cannot be read: nothing is imported, and the job says why."""
    bank_import.error = exc.detail[:2000]
    bank_import.content = None
    bank_import.finished_at = now()
    report = ImportReport.of(bank_import)
    if job is not None:
        jobs.finish_job(session, job.id, result=report.job_result(), error=bank_import.error)
    return report


def _store_line(
    session: Session,
    matcher: Matcher,
    bank_import: BankImport,
    position: int,
    line: StatementLine,
    key: str | None,
    duplicates: list[dict[str, Any]],
    *,
    refused: str | None = None,
) -> str:
    """Store one line unless the event has it, book it; returns what it counts as."""
    values = _values(bank_import, position, line)
    transaction = repo.insert_transaction(session, {**values, "booking_key": key})
    if transaction is None:
        earlier = repo.transaction_by_checksum(session, matcher.event.id, line.checksum)
        if earlier is not None:
            if earlier.import_id == bank_import.id:
                # Stored by an earlier run of this import: count (and list) it as it stands.
                if earlier.duplicate_of_id is not None:
                    duplicates.append(_duplicate(position, line, earlier.duplicate_of_id, "the same bank transaction"))
                return earlier.state
            duplicates.append(_duplicate(position, line, earlier.id, "the same line"))
            return DUPLICATE_COUNT
        original = repo.transaction_by_booking_key(session, matcher.event.id, key) if key else None
        if original is None:  # pragma: no cover - the conflicting row was deleted meanwhile
            raise RuntimeError(f"statement line {position} conflicts with a line that cannot be found")
        duplicates.append(_duplicate(position, line, original.id, "the same bank transaction"))
        repeat = repo.insert_transaction(
            session,
            {
                **values,
                "booking_key": None,
                "state": TransactionState.ALREADY_IMPORTED,
                "duplicate_of_id": original.id,
                "reason": (
                    f"Bank transaction #{original.id} (import #{original.import_id}) has the same bank "
                    f"transaction id, date and amount: the same booking from another export, not counted "
                    "again. If it is another transfer after all, assign it to its order."
                ),
            },
        )
        if repeat is None:  # pragma: no cover - an identical line raced in meanwhile
            return DUPLICATE_COUNT
        return TransactionState.ALREADY_IMPORTED
    try:
        return book(session, matcher, transaction, actor=bank_import.created_by, refused=refused)
    except BookingRefused as exc:
        raise _Refused(position, exc.detail) from exc


def _values(bank_import: BankImport, position: int, line: StatementLine) -> dict[str, Any]:
    return {
        "event_id": bank_import.event_id,
        "import_id": bank_import.id,
        "position": position,
        "booked_on": line.booked_on,
        "amount": line.amount,
        "currency": line.currency,
        "payer_name": clip(line.payer_name, 200),
        "payer_iban": clip(line.payer_iban, 64),
        "payer_bic": clip(line.payer_bic, 16),
        "remittance": line.remittance,
        "bank_transaction_id": clip(line.bank_transaction_id, 200) if line.bank_transaction_id else None,
        "checksum": line.checksum,
        "state": TransactionState.IMPORTED,
        "reason": "",
        "created_at": now(),
    }


def _duplicate(position: int, line: StatementLine, earlier_id: int, what: str) -> dict[str, Any]:
    return {
        "position": position,
        "booked-on": line.booked_on.isoformat(),
        "amount": format(line.amount, "f"),
        "currency": line.currency,
        "same-as": str(earlier_id),
        "reason": f"{what} was imported before (bank transaction #{earlier_id}); not counted again",
    }
