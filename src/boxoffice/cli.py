"""The ``boxoffice`` command line (names fixed in CONTRACT.md)."""

from __future__ import annotations

import sys

import typer

from boxoffice import db

app = typer.Typer(
    help="boxoffice: the commerce core of event ticketing.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)
users_app = typer.Typer(help="Organizer team members.", no_args_is_help=True)
tokens_app = typer.Typer(help="Organizer API tokens.", no_args_is_help=True)
books_app = typer.Typer(help="The books: verification, exports, shredding.", no_args_is_help=True)
bank_app = typer.Typer(help="Bank transfers: statement imports, refund files.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(books_app, name="books")
app.add_typer(bank_app, name="bank")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


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

    with db.unit_of_work() as session:
        event = seed_demo(session)
        default_list(session, event)  # so the panel's scanner has a list to open
        slug = f"{event.organizer.slug}/{event.slug}"
    typer.echo(f"Demo event: {slug}  (shop: /e/{slug}/)")
    typer.echo(f"Login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Serve the API and the pages."""
    import uvicorn

    uvicorn.run(
        # serve_app also runs background jobs in this process when no BOXOFFICE_REDIS_URL is set.
        "boxoffice.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
    )


@app.command()
def worker(
    processes: int = typer.Option(2, help="Worker processes (with Redis)."),
    threads: int = typer.Option(4, help="Job threads per process."),
) -> None:
    """Run background jobs: Dramatiq workers and the scheduler with BOXOFFICE_REDIS_URL, else in this process."""
    from boxoffice.worker import run_worker

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

    try:
        with db.unit_of_work() as session:
            user, org, created = create_user(
                session, email=email, password=password, organizer_slug=organizer, role=role
            )
            verb = "Created" if created else "Updated"
            typer.echo(f"{verb} {user.email} as {role} of organizer '{org.slug}'.")
    except DomainError as exc:
        _fail(exc.detail)


@tokens_app.command("create")
def tokens_create(
    organizer: str = typer.Option(..., help="The organizer's slug."),
    name: str = typer.Option(..., help="A name to recognise the token by."),
    role: str = typer.Option("admin", help="admin or staff."),
) -> None:
    """Print a new organizer API token (use it as a bearer token)."""
    from boxoffice.accounts.service import create_api_token
    from boxoffice.errors import DomainError

    try:
        with db.unit_of_work() as session:
            token = create_api_token(session, organizer_slug=organizer, name=name, role=role)
    except DomainError as exc:
        _fail(exc.detail)
    typer.echo(token)


@books_app.command("verify")
def books_verify(
    event: str | None = typer.Option(None, help="Only this event (ORGANIZER/EVENT, or EVENT when unique)."),
) -> None:
    """Recheck the books (balances, quotas, refunds, audit trail, export totals); exit 1 on any drift."""
    from boxoffice.books.commands import run_verify
    from boxoffice.errors import DomainError

    try:
        run_verify(event)
    except DomainError as exc:
        _fail(exc.detail)


@app.command("export")
def export(
    kind: str = typer.Argument(..., help="orders, payments, refunds or bank-transactions."),
    event: str = typer.Option(..., help="The event: ORGANIZER/EVENT, or EVENT when unique."),
    fmt: str = typer.Option("csv", "--format", help="csv, xlsx or json."),
    output: str | None = typer.Option(None, help="File to write ('-' for stdout); default ORGANIZER-EVENT-KIND.FORMAT."),
) -> None:
    """Export one event's orders (with balances), payments, refunds or bank transactions."""
    from boxoffice.books.commands import run_export
    from boxoffice.errors import DomainError

    try:
        run_export(kind, event, fmt, output)
    except DomainError as exc:
        _fail(exc.detail)


@app.command("shred")
def shred(
    event: str = typer.Option(..., help="The event: ORGANIZER/EVENT, or EVENT when unique."),
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

    try:
        run_shred(event, include_orders=include_orders, force=force, download=download, yes=yes)
    except DomainError as exc:
        _fail(exc.detail)


@bank_app.command("import")
def bank_import(
    file: str = typer.Argument(..., help="A bank statement: CSV export or camt.053 XML."),
    event: str = typer.Option(..., help="The event's slug (or ORGANIZER/EVENT)."),
    organizer: str | None = typer.Option(None, help="The organizer's slug, when several have that event slug."),
) -> None:
    """Import a bank statement: book the transfers it shows, list what waits and what was skipped."""
    from boxoffice.errors import DomainError
    from boxoffice.providers.banktransfer.commands import run_bank_import

    try:
        run_bank_import(file, event, organizer)
    except DomainError as exc:
        _fail(exc.detail)


@bank_app.command("export-refunds")
def bank_export_refunds(
    event: str = typer.Option(..., help="The event's slug (or ORGANIZER/EVENT)."),
    organizer: str | None = typer.Option(None, help="The organizer's slug, when several have that event slug."),
    fmt: str = typer.Option("xml", "--format", help="xml (SEPA pain.001) or csv."),
    output: str = typer.Option(..., help="File to write ('-' for stdout)."),
    batch: str | None = typer.Option(None, help="Write an earlier file again (its id); moves no refund."),
) -> None:
    """Write waiting bank transfer refunds to a credit transfer file for your bank; they become 'transit'."""
    from boxoffice.errors import DomainError
    from boxoffice.providers.banktransfer.commands import run_export_refunds

    try:
        run_export_refunds(event, organizer, fmt, output, batch)
    except DomainError as exc:
        _fail(exc.detail)


def main() -> None:
    sys.exit(app())
