"""The ``boxoffice`` command line (names fixed in CONTRACT.md)."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import ExitStack
from enum import StrEnum

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from boxoffice import __version__, config, db
from boxoffice.observability.logs import configure_logging
from boxoffice.providers.banktransfer.csvimport import MAPPED_FIELDS

app = typer.Typer(
    help="boxoffice: the commerce core of event ticketing.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)
users_app = typer.Typer(help="Organizer team members.", no_args_is_help=True)
tokens_app = typer.Typer(help="Organizer API tokens.", no_args_is_help=True)
books_app = typer.Typer(
    help="The books: verify every balance. (Exports and shredding are `boxoffice export` and `boxoffice shred`.)",
    no_args_is_help=True,
)
bank_app = typer.Typer(help="Bank transfers: statement imports, refund files.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(books_app, name="books")
app.add_typer(bank_app, name="bank")


class ExportKind(StrEnum):
    orders = "orders"
    payments = "payments"
    refunds = "refunds"
    bank_transactions = "bank-transactions"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class RefundFileFormat(StrEnum):
    xml = "xml"
    csv = "csv"


EVENT_HELP = "The event: ORGANIZER/EVENT, or just EVENT when one organizer has that slug."


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _need_database() -> None:
    """Stop with one line, before connecting, when the database is not there (no empty file made)."""
    problem = db.missing_database()
    if problem:
        _fail(problem)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"boxoffice {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """boxoffice: the commerce core of event ticketing."""
    configure_logging()


@app.command()
def migrate() -> None:
    """Apply the database migrations to BOXOFFICE_DATABASE_URL."""
    db.migrate()
    typer.echo("Database is up to date.")


@app.command()
def demo() -> None:
    """Seed the demo organizer, event, products and admin user (idempotent)."""
    from boxoffice.catalogue.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
    from boxoffice.tickets.service import default_list

    _need_database()
    with db.unit_of_work() as session:
        event = seed_demo(session)
        default_list(session, event)  # so the panel's scanner has a list to open
        slug = f"{event.organizer.slug}/{event.slug}"
    typer.echo(f"Demo event: {slug}  (shop: /e/{slug}/)")
    typer.echo(f"Login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


@app.command()
def serve(
    host: str = typer.Option(config.DEFAULT_HOST, help="Address to listen on."),
    port: int = typer.Option(config.DEFAULT_PORT, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Serve the API and the pages. Links follow BOXOFFICE_PUBLIC_URL, by default http://HOST:PORT."""
    import uvicorn

    _need_database()
    # Set in the environment, which the --workers processes inherit.
    config.default_public_url(host, port)
    trusted_proxies = config.get_settings().trusted_proxies
    with ExitStack() as stack:
        if workers > 1 and not config.get_settings().metrics_dir:
            # The workers share their HTTP metrics through files, so one scrape of /metrics sees them all.
            metrics_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="boxoffice-metrics-"))
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
            # The folder goes when serve returns: so does the setting that names it.
            stack.callback(os.environ.pop, "PROMETHEUS_MULTIPROC_DIR", None)
            stack.callback(config.get_settings.cache_clear)
        uvicorn.run(
            # serve_app also runs background jobs in this process when no BOXOFFICE_REDIS_URL is set.
            "boxoffice.app:serve_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # boxoffice.observability writes the access log, with request ids and durations.
            access_log=False,
            log_config=None,
            # No route speaks WebSocket: uvicorn need not load a WebSocket implementation in every worker.
            ws="none",
            # X-Forwarded-For and -Proto are believed only from BOXOFFICE_TRUSTED_PROXIES (the client
            # address is what login throttling and anonymous Idempotency-Keys go by).
            proxy_headers=bool(trusted_proxies),
            forwarded_allow_ips=",".join(trusted_proxies) or None,
            # A worker still importing the app cannot answer uvicorn's pings; on a busy machine that
            # takes longer than uvicorn's 5 s, and the worker would be killed and restarted forever.
            timeout_worker_healthcheck=60,
        )


@app.command()
def worker(
    processes: int = typer.Option(2, help="Worker processes (with Redis)."),
    threads: int = typer.Option(4, help="Job threads per process."),
) -> None:
    """Run background jobs: Dramatiq workers and the scheduler with BOXOFFICE_REDIS_URL, else in this process."""
    from boxoffice.worker import run_worker

    _need_database()
    raise typer.Exit(run_worker(processes=processes, threads=threads))


@users_app.command("create")
def users_create(
    email: str = typer.Option(..., help="The user's e-mail address (login)."),
    password: str = typer.Option(..., help="The password (8 characters or more)."),
    organizer: str = typer.Option(..., help="The organizer's slug (created if new)."),
    role: str = typer.Option("admin", help="admin or staff."),
) -> None:
    """Create an organizer team member (and the organizer, if it does not exist yet)."""
    from boxoffice.accounts.service import create_user
    from boxoffice.errors import DomainError

    _need_database()
    try:
        with db.unit_of_work() as session:
            user, org, created = create_user(
                session, email=email, password=password, organizer_slug=organizer, role=role
            )
            verb = "Created" if created else "Updated"
            typer.echo(f"{verb} {user.email} as {role} of organizer '{org.slug}'.")
    except DomainError as exc:
        _fail(exc.detail)


@users_app.command("remove")
def users_remove(
    email: str = typer.Option(..., help="The user's e-mail address."),
    organizer: str = typer.Option(..., help="The organizer's slug."),
) -> None:
    """Take a member off an organizer's team; every login of the user ends at once."""
    from boxoffice.accounts.service import remove_member
    from boxoffice.errors import DomainError

    _need_database()
    try:
        with db.unit_of_work() as session:
            user = remove_member(session, email=email, organizer_slug=organizer)
            typer.echo(f"Removed {user.email} from organizer '{organizer}'; their logins have ended.")
    except DomainError as exc:
        _fail(exc.detail)


@tokens_app.command("create")
def tokens_create(
    organizer: str = typer.Option(..., help="The slug of an existing organizer."),
    name: str = typer.Option(..., help="A name to recognise the token by."),
    role: str = typer.Option("admin", help="admin or staff."),
) -> None:
    """Print a new organizer API token (use it as a bearer token)."""
    from boxoffice.accounts.service import create_api_token
    from boxoffice.catalogue.service import organizer_slugs
    from boxoffice.errors import DomainError, NotFound

    _need_database()
    try:
        with db.unit_of_work() as session:
            token = create_api_token(session, organizer_slug=organizer, name=name, role=role)
    except NotFound as exc:
        with db.unit_of_work() as session:
            known = ", ".join(organizer_slugs(session)) or "none yet (create one with `boxoffice users create`)"
        _fail(f"{exc.detail} Organizers: {known}.")
    except DomainError as exc:
        _fail(exc.detail)
    typer.echo(token)


@books_app.command("verify")
def books_verify(
    event: str | None = typer.Option(None, help="Only this event: " + EVENT_HELP),
) -> None:
    """Recheck the books (balances, quotas, refunds, audit trail, export totals); exit 1 on any drift."""
    from boxoffice.books.commands import run_verify
    from boxoffice.errors import DomainError

    _need_database()
    try:
        run_verify(event)
    except DomainError as exc:
        _fail(exc.detail)


@app.command("export")
def export(
    kind: ExportKind = typer.Argument(..., help="What to export."),
    event: str = typer.Option(..., help=EVENT_HELP),
    fmt: ExportFormat = typer.Option(ExportFormat.csv, "--format", help="The file format."),
    output: str | None = typer.Option(None, help="File to write ('-' for stdout); default ORGANIZER-EVENT-KIND.FORMAT."),
    include_test_mode: bool = typer.Option(
        False, "--include-test-mode", help="Also export test-mode orders and their payments and refunds."
    ),
) -> None:
    """Export one event's orders (with balances), payments, refunds or bank transactions (test-mode orders
    left out unless --include-test-mode)."""
    from boxoffice.books.commands import run_export
    from boxoffice.errors import DomainError

    _need_database()
    try:
        run_export(kind.value, event, fmt.value, output, include_test_mode=include_test_mode)
    except DomainError as exc:
        _fail(exc.detail)


@app.command("shred")
def shred(
    event: str = typer.Option(..., help=EVENT_HELP),
    include_orders: bool = typer.Option(False, help="Also erase buyers' e-mails and attendee names."),
    force: bool = typer.Option(False, help="Shred although the event has not ended yet."),
    download: str | None = typer.Option(None, help="Where to save what will be removed (a ZIP)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase an ended event's personal data (payment details; buyer data with --include-orders).

    First saves everything that will be removed to a ZIP file, then asks before erasing. Amounts,
    states and dates stay, so the books still balance."""
    from boxoffice.books.commands import run_shred
    from boxoffice.errors import DomainError

    _need_database()
    try:
        run_shred(event, include_orders=include_orders, force=force, download=download, yes=yes)
    except DomainError as exc:
        _fail(exc.detail)


@bank_app.command("import")
def bank_import(
    file: str = typer.Argument(..., help="A bank statement: CSV export or camt.053 XML."),
    event: str = typer.Option(..., help=EVENT_HELP),
    organizer: str | None = typer.Option(None, help="The organizer's slug, when several have that event slug."),
    column: list[str] = typer.Option(
        [], help="For a CSV whose columns are not recognised: FIELD=COLUMN (a header or a 0-based index), "
        "repeatable. Fields: " + ", ".join(MAPPED_FIELDS) + "; give amount, or debit and credit.",
    ),
    date_format: str | None = typer.Option(None, help="With --column: the dates' strptime format, e.g. %d.%m.%Y."),
    decimal_comma: bool | None = typer.Option(None, help="With --column: amounts are written 1.234,56."),
    skip_rows: int | None = typer.Option(None, help="With --column: rows before the first booking."),
) -> None:
    """Import a bank statement: book the transfers it shows, list what waits and what was skipped."""
    from boxoffice.errors import DomainError
    from boxoffice.providers.banktransfer.commands import column_mapping, run_bank_import

    _need_database()
    try:
        mapping = column_mapping(column, date_format=date_format, decimal_comma=decimal_comma, skip_rows=skip_rows)
        run_bank_import(file, event, organizer, mapping)
    except DomainError as exc:
        _fail(exc.detail)


@bank_app.command("export-refunds")
def bank_export_refunds(
    event: str = typer.Option(..., help=EVENT_HELP),
    organizer: str | None = typer.Option(None, help="The organizer's slug, when several have that event slug."),
    fmt: RefundFileFormat = typer.Option(RefundFileFormat.xml, "--format", help="xml (SEPA pain.001) or csv."),
    output: str = typer.Option(..., help="File to write ('-' for stdout)."),
    batch: str | None = typer.Option(None, help="Write an earlier file again (its id); moves no refund."),
) -> None:
    """Write waiting bank transfer refunds to a credit transfer file for your bank; they become 'transit'."""
    from boxoffice.errors import DomainError
    from boxoffice.providers.banktransfer.commands import run_export_refunds

    _need_database()
    try:
        run_export_refunds(event, organizer, fmt.value, output, batch)
    except DomainError as exc:
        _fail(exc.detail)


def main() -> None:
    try:
        sys.exit(app())
    except (OperationalError, ProgrammingError) as exc:
        # A database that is unreachable or not migrated: one line, not a traceback.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        typer.secho(
            f"The database is not ready ({reason}). Check BOXOFFICE_DATABASE_URL and run `boxoffice migrate`.",
            fg=typer.colors.RED, err=True,
        )
        sys.exit(2)
