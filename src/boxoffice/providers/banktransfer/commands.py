"""What ``boxoffice bank import`` and ``boxoffice bank export-refunds`` do; ``cli.py`` declares the
options and calls these. Reports go to stdout; progress goes to stderr, and so does the summary of
a refund file that is itself written to stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from boxoffice import db
from boxoffice.books.commands import cli_actor
from boxoffice.books.repository import event_by_reference
from boxoffice.errors import InvalidValue
from boxoffice.providers.banktransfer import importing, refunds
from boxoffice.providers.banktransfer.rules import DUPLICATE_COUNT, TransactionState

stderr = Console(stderr=True)
stdout = Console()

# What an import makes of lines, in the order the summary lists them.
_STATES = (TransactionState.MATCHED, TransactionState.NO_MATCH, TransactionState.INVALID, DUPLICATE_COUNT)


def _event_reference(event: str, organizer: str | None) -> str:
    return f"{organizer}/{event}" if organizer else event


def column_mapping(
    columns: list[str], *, date_format: str | None, decimal_comma: bool | None, skip_rows: int | None
) -> dict[str, Any] | None:
    """The CSV column mapping given as ``--column FIELD=COLUMN`` options (None when none is given)."""
    pairs = []
    for option in columns:
        name, sep, column = option.partition("=")
        if not sep:
            raise InvalidValue(f"--column takes FIELD=COLUMN, not {option!r}.", parameter="column")
        pairs.append((name, column))
    return importing.mapping_from_columns(
        pairs, date_format=date_format, decimal_comma=decimal_comma, skip_rows=skip_rows
    )


def run_bank_import(
    path: str, event: str, organizer: str | None, mapping: dict[str, Any] | None = None
) -> importing.ImportReport:
    """Import one statement file into an event, with a progress bar and a summary; exit 1 when the
    file could not be imported at all, or none of its rows could be read."""
    file = Path(path)
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise InvalidValue(f"Cannot read {path}: {exc.strerror or exc}.", parameter="file") from exc
    with db.unit_of_work() as session:
        found = event_by_reference(session, _event_reference(event, organizer))
        label = f"{found.organizer.slug}/{found.slug}"
        import_id = importing.start_import(
            session, found.id, filename=file.name, content=content, actor=cli_actor(), mapping=mapping,
            background=False,
        ).id
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr
    ) as bar:
        task = bar.add_task(f"Importing {file.name} into {label}", total=None)
        report = importing.run_import(
            import_id, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    _summary(report)
    if report.error or (report.skipped_rows and not report.lines):
        raise typer.Exit(1)
    return report


def _summary(report: importing.ImportReport) -> None:
    if report.error:
        stdout.print(f"[red]Nothing was imported from {report.filename}:[/red] {report.error}")
        if report.format == "csv" or not report.filename.lower().endswith(".xml"):
            stdout.print("A CSV's columns can be named with --column FIELD=COLUMN: see `boxoffice bank import --help`.")
        return
    table = Table(title=f"{report.filename}: {report.lines} lines ({report.format}, {report.encoding or 'binary'})")
    table.add_column("state")
    table.add_column("lines", justify="right")
    for state in _STATES:
        table.add_row(str(state), str(report.counts.get(state, 0)))
    table.add_row("unreadable (skipped)", str(len(report.skipped_rows)))
    stdout.print(table)
    if report.skipped_rows:
        skipped = Table(title="Rows that were not imported")
        skipped.add_column("where")
        skipped.add_column("why")
        for row in report.skipped_rows:
            skipped.add_row(row["location"], row["reason"])
        stdout.print(skipped)
    waiting = report.counts.get(TransactionState.NO_MATCH, 0) + report.counts.get(TransactionState.INVALID, 0)
    if waiting:
        stdout.print(f"{waiting} line(s) wait for you to assign them to an order or discard them.")
    if report.skipped_rows and not report.lines:
        stdout.print("[red]No row of the file could be read[/red]: is it the right file, or do the columns need --column?")


def run_export_refunds(event: str, organizer: str | None, fmt: str, output: str, batch: str | None) -> None:
    """Write the event's waiting bank transfer refunds to a file (``-``: stdout) and report them."""
    with db.unit_of_work() as session:
        found = event_by_reference(session, _event_reference(event, organizer))
        if batch:
            exported = refunds.export_again(session, found.id, batch, fmt=fmt)
        else:
            exported = refunds.export_refunds(session, found.id, fmt=fmt, actor=cli_actor())
    # Written after the refunds are committed as in transit: a failed write can be repeated with
    # --batch, while a file of refunds that still look unpaid could be paid twice.
    try:
        if output == "-":
            sys.stdout.buffer.write(exported.content)
            sys.stdout.buffer.flush()
        else:
            Path(output).write_bytes(exported.content)
    except OSError as exc:
        raise InvalidValue(
            f"Could not write {output} ({exc.strerror or exc}); the refunds are in file {exported.batch}: "
            f"write it again with --batch {exported.batch}.",
            parameter="output",
        ) from exc
    where = "stdout" if output == "-" else output
    report = stderr if output == "-" else stdout
    report.print(f"{len(exported.refunds)} refund(s) in file {exported.batch} ({exported.format}), written to {where}.")
    for missing in exported.missing:
        report.print(f"[yellow]Not exported:[/yellow] {missing.refund}: {missing.reason}")
