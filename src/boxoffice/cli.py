"""The ``boxoffice`` command line (names fixed in CONTRACT.md)."""

from __future__ import annotations

import sys

import typer

from boxoffice import db

app = typer.Typer(help="boxoffice: the commerce core of event ticketing.", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Organizer team members.", no_args_is_help=True)
tokens_app = typer.Typer(help="Organizer API tokens.", no_args_is_help=True)
books_app = typer.Typer(help="The books: verification, exports, shredding.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(books_app, name="books")


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

    with db.unit_of_work() as session:
        event = seed_demo(session)
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
        "boxoffice.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
    )


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
def books_verify() -> None:
    """Recompute every order's balance from its payments and refunds; exit 1 on any drift."""
    from boxoffice.books.verify import verify

    with db.unit_of_work() as session:
        drifts = verify(session)
    if drifts:
        typer.echo(f"Books do NOT balance: {len(drifts)} difference(s).")
        for drift in drifts:
            typer.echo(f"  - {drift}")
        raise typer.Exit(1)
    typer.echo("Books balance: every order's stored balance matches its payments and refunds.")


def main() -> None:
    sys.exit(app())
