"""Shared fixtures: one fresh database per test worker, emptied after every test.

With ``BOXOFFICE_TEST_DATABASE_URL`` (a PostgreSQL server URL) each pytest-xdist worker creates its
own database on that server and drops it at the end; without it, each worker uses an SQLite file.
Both are built by the real Alembic migrations.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from boxoffice import config, db
from boxoffice.catalogue.models import Event, Product, Quota
from boxoffice.catalogue.service import create_event, create_product, create_quota, get_or_create_organizer
from boxoffice.kit import memo


def _create_postgres_database(server_url: str, worker: str) -> tuple[str, str]:
    import psycopg

    url = make_url(server_url)
    name = f"bo_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(server_url: str, name: str) -> None:
    import psycopg

    admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of this worker's freshly migrated test database (also exported to the app)."""
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = os.environ.get("BOXOFFICE_TEST_DATABASE_URL")
    dropped: str | None = None
    if server:
        url, dropped = _create_postgres_database(server, worker_id)
    else:
        path: Path = tmp_path_factory.mktemp("db") / "boxoffice.sqlite3"
        url = f"sqlite:///{path}"
    os.environ["BOXOFFICE_DATABASE_URL"] = url
    config.get_settings.cache_clear()
    db.migrate(url)
    yield url
    db.dispose_engines()
    if server and dropped:
        _drop_postgres_database(server, dropped)


def _tables_in_delete_order() -> list[str]:
    from boxoffice import models_registry  # noqa: F401

    return [t.name for t in reversed(db.Base.metadata.sorted_tables)]


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table (and the memos of answers read from it) after a test that used the database."""
    yield
    memo.forget_all()
    if "database_url" not in request.fixturenames:
        return
    url = request.getfixturevalue("database_url")
    engine = db.get_engine(url)
    tables = _tables_in_delete_order()
    # DELETE, not TRUNCATE: tests leave a handful of rows, and PostgreSQL's TRUNCATE of every table
    # (new files for each) costs about a second per test where these deletes take milliseconds.
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on the test database; the test commits what it wants others to see."""
    with db.session_factory(database_url)() as s:
        yield s


@pytest.fixture
def uow(database_url: str):  # type: ignore[no-untyped-def]
    """``with uow() as session:`` — one committed unit of work, as the API and jobs run them."""
    return lambda: db.unit_of_work(database_url)


class Shop:
    """A small catalogue for tests: one event with a shared quota and two products."""

    def __init__(self, event: Event, quota: Quota, regular: Product, student: Product) -> None:
        self.event, self.quota, self.regular, self.student = event, quota, regular, student
        self.event_id, self.quota_id = event.id, quota.id
        self.regular_id, self.student_id = regular.id, student.id


def make_shop(
    session: Session,
    *,
    currency: str = "EUR",
    size: int | None = 100,
    regular: str = "49.00",
    student: str = "19.00",
    slug: str = "conf",
    organizer: str = "acme",
    providers: dict[str, dict[str, object]] | None = None,
) -> Shop:
    """A live event with a shared quota and two products; in test mode when the sandbox is enabled."""
    org = get_or_create_organizer(session, organizer)
    chosen = providers or {"manual": {"enabled": True}, "banktransfer": {"enabled": True}, "sandbox": {"enabled": True}}
    event = create_event(
        session,
        org,
        slug=slug,
        name=f"{slug} {currency}",
        currency=currency,
        payment_providers=chosen,
        live=True,
        # The sandbox takes money only in test mode (contract v1.1): a shop that uses it is a test shop.
        test_mode=bool((chosen.get("sandbox") or {}).get("enabled")),
    )
    quota = create_quota(session, event, name="Tickets", size=size)
    p1 = create_product(session, event, name="Regular", price=Decimal(regular), quotas=[quota])
    p2 = create_product(session, event, name="Student", price=Decimal(student), quotas=[quota])
    return Shop(event, quota, p1, p2)


@pytest.fixture
def shop(uow) -> Shop:  # type: ignore[no-untyped-def]
    """A committed EUR event: quota of 100 shared by Regular 49.00 and Student 19.00."""
    with uow() as s:
        return make_shop(s)


@pytest.fixture
def console_logging() -> Iterator[Callable[[], None]]:
    """Call it to set up boxoffice's console logging as ``boxoffice serve`` does; undone after the test."""
    import logging

    from boxoffice.observability.logs import configure_logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield lambda: configure_logging(force=True)
    root.handlers[:] = handlers
    root.setLevel(level)
