"""What ``boxoffice export``, ``boxoffice shred`` and ``boxoffice books verify`` do; ``cli.py`` declares
the options and calls these. Reports go to stdout; progress goes to stderr, so an export can go to stdout."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from boxoffice import db
from boxoffice.books import exports, personal, shred
from boxoffice.books.repository import event_by_reference
from boxoffice.books.verify import verify

stderr = Console(stderr=True)
stdout = Console()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    )


@contextmanager
def _open_output(output: str) -> Iterator[BinaryIO]:
    if output == "-":
        yield sys.stdout.buffer
        return
    with open(output, "wb") as out:
        yield out


def cli_actor() -> str:
    """How a command-line user appears in the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def run_export(kind: str, event_ref: str, fmt: str, output: str | None, *, include_test_mode: bool = False) -> None:
    """Write one export of one event to ``output`` (a file, ``-`` for stdout, or a default file name);
    test-mode orders only with ``include_test_mode``."""
    with db.unit_of_work() as session:
        event = event_by_reference(session, event_ref)
        event_id, export = event.id, exports.export_kind(kind)
        target = output or exports.file_name(event.organizer.slug, event.slug, kind, fmt)
        total = exports.count_rows(session, event_id, export, include_test_mode=include_test_mode)
    with _progress() as bar:
        task = bar.add_task(f"Exporting {kind}", total=total)
        chunks = exports.export_stream(
            db.session_factory(),
            event_id,
            kind,
            fmt,
            progress=lambda n: bar.advance(task, n),
            include_test_mode=include_test_mode,
        )
        with _open_output(target) as out:
            for chunk in chunks:
                out.write(chunk)
    if target != "-":
        stdout.print(f"Wrote {total} {kind} row(s) to {target}.")


def run_shred(event_ref: str, *, include_orders: bool, force: bool, download: str | None, yes: bool) -> None:
    """Check, offer the download, confirm, then shred with a progress bar."""
    with db.unit_of_work() as session:
        event = event_by_reference(session, event_ref)
        event_id, name = event.id, f"{event.organizer.slug}/{event.slug}"
        plan = shred.shred_plan(session, event_id, include_orders=include_orders, force=force)
    scope = "payment details and buyer e-mails/names" if include_orders else "payment details"
    stderr.print(
        f"Shredding {scope} of {name}: {plan.orders} order(s), {plan.payments} payment(s), "
        f"{plan.refunds} refund(s), {plan.audit_entries} audit entries to look through."
    )
    default_name, stream = personal.personal_data_download(
        db.session_factory(), event_id, include_orders=include_orders
    )
    target = Path(download or default_name)
    with target.open("wb") as out:
        for chunk in stream:
            out.write(chunk)
    stderr.print(f"Everything that will be removed is in {target}; keep it safe or delete it.")
    if not yes and not typer.confirm("Erase this personal data now? It cannot be undone.", err=True):
        stderr.print("Nothing was shredded.")
        raise typer.Exit(1)
    with db.unit_of_work() as session:
        job = shred.start_shred(
            session, event_id, include_orders=include_orders, force=force, actor=cli_actor(), background=False
        )
        job_id = job.id
    with _progress() as bar:
        task = bar.add_task("Shredding", total=plan.orders)
        job = shred.run_shred_job(job_id, progress=lambda done, total: bar.update(task, completed=done, total=total))
    result = job.result
    stdout.print(
        f"Shredded {result['payments']} payment(s), {result['refunds']} refund(s), "
        f"{result['buyer_fields']} buyer field(s) and {result['audit_entries']} audit entries "
        f"in {result['orders']} order(s) (job {job_id})."
    )
    if result["skipped_open_refunds"]:
        stdout.print(f"Skipped, refunds opened meanwhile: {', '.join(result['skipped_open_refunds'])}.")


def run_verify(event_ref: str | None) -> None:
    """Print the verification report; exit 1 on any drift."""
    with db.unit_of_work() as session:
        event_id = event_by_reference(session, event_ref).id if event_ref else None
        report = verify(session, event_id=event_id)
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)
