"""Database plumbing: engine, sessions, the unit of work, and column types shared by all models.

Services receive a :class:`~sqlalchemy.orm.Session` and never commit; whoever owns the use case (an
HTTP request, a CLI command, a job) opens :func:`unit_of_work`, which commits once at the end.
"""

from __future__ import annotations

import select as sockets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Numeric,
    create_engine,
    event,
    exc,
    make_url,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.orm.util import identity_key
from sqlalchemy.types import TypeDecorator, TypeEngine

from boxoffice.config import get_settings
from boxoffice.errors import NotFound

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Amount(TypeDecorator[Decimal]):
    """An exact amount of money.

    PostgreSQL stores ``NUMERIC(18, 3)``. SQLite has no exact decimal type (it would store a float),
    so there the value is kept as an integer number of thousandths — three decimals cover every
    currency's minor unit — which keeps ``SUM`` exact on both databases.
    """

    impl = Numeric(18, 3)
    cache_ok = True
    _SCALE = Decimal(1000)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 3, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money is never a float")
        value = Decimal(value)
        if dialect.name == "sqlite":
            scaled = value * self._SCALE
            if scaled != scaled.to_integral_value():
                raise ValueError(f"{value} has more than three decimals")
            return int(scaled)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / self._SCALE).quantize(Decimal("0.001"))
        return Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use boxoffice.kit.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    # SQLite allows one writer. Taking the write lock when the transaction begins (IMMEDIATE) turns
    # would-be deadlocks between two read-then-write transactions into an orderly wait.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


# A request thread holds one connection at a time (``boxoffice.app.REQUEST_THREADS`` of them in a
# serve worker); the embedded job runner and the scheduler hold a few more.
POOL_SIZE = 12
MAX_OVERFLOW = 8
# A connection older than this is replaced at checkout, so a server-side idle timeout or a
# firewall forgetting the flow never meets a pooled connection.
POOL_RECYCLE_SECONDS = 1800
# libpq's TCP keepalives: the kernel notices a peer that vanished without closing (the check below
# then sees the socket readable).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def idle_connection_is_dead(dbapi_connection: Any) -> bool:
    """Whether a pooled PostgreSQL connection is known dead, without a round trip.

    An idle connection has nothing to read: the server writes to it only to end it (a restart,
    ``pg_terminate_backend``, ``idle_session_timeout``: an error message, then the close). So a
    socket that polls readable, or one psycopg already marked closed or broken, is discarded.
    """
    if dbapi_connection.closed or getattr(dbapi_connection, "broken", False):
        return True
    try:
        readable, _, _ = sockets.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _configure_postgres(engine: Engine) -> None:
    # Instead of ``pool_pre_ping`` (a SELECT 1 round trip on every checkout, i.e. every request):
    # a non-blocking poll of the socket. Raising DisconnectionError makes the pool discard the
    # connection and check out another (a fresh one if need be), so the request never sees it.
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if idle_connection_is_dead(dbapi_connection):
            raise exc.DisconnectionError("the server closed this pooled connection while it was idle")


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    url = url or get_settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
                _configure_sqlite(engine)
            else:
                engine = create_engine(
                    url,
                    pool_size=POOL_SIZE,
                    max_overflow=MAX_OVERFLOW,
                    pool_recycle=POOL_RECYCLE_SECONDS,
                    pool_use_lifo=True,  # the few connections a quiet moment needs stay warm
                    connect_args=KEEPALIVES,
                )
                _configure_postgres(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, forked workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        # The session factories are bound to those engines: a factory kept would go on with a second
        # pool of its own, beside the new engine every other caller gets.
        _factories.clear()


_factories: dict[str, sessionmaker[Session]] = {}


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    url = url or get_settings().database_url
    factory = _factories.get(url)
    if factory is None:
        # Every mapped class must be known before the first query configures the mappers.
        import boxoffice.models_registry  # noqa: F401

        factory = sessionmaker(bind=get_engine(url), expire_on_commit=False, autoflush=True)
        _factories[url] = factory
    return factory


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """One use case, one transaction: commit on success, roll back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_LOCKED = "boxoffice.locked-rows"
RowT = TypeVar("RowT")


def lock_row(session: Session, model: type[RowT], row_id: int, *options: ORMOption) -> RowT:
    """The row ``row_id`` of ``model`` locked for the rest of the transaction (``SELECT … FOR UPDATE``);
    404 ``not-found`` when there is none (``parameter`` ``id``). Each row is locked — and read — once per transaction: a row this transaction already
    locked outside any savepoint is returned as the session holds it, since nobody else can have
    changed it since. (A lock taken inside a savepoint is not remembered: PostgreSQL releases it
    when the savepoint rolls back.) ``options`` load related rows in the same query (joined loads);
    only ``model``'s row is locked (``FOR UPDATE OF``)."""
    held = held_lock(session, model, row_id)
    if held is not None:
        return held
    row: RowT | None = session.execute(
        select(model)
        .options(*options)
        .where(cast(Any, model).id == row_id)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    ).unique().scalar_one_or_none()
    if row is None:
        raise NotFound(f"{model.__name__} {row_id} does not exist.", parameter="id")
    note_locks(session, row)
    return row


def held_lock(session: Session, model: type[Any], row_id: int) -> Any:
    """The row of ``model`` as this transaction locked it already (see :func:`lock_row`), or None."""
    key = identity_key(model, row_id)
    return session.identity_map.get(key) if key in session.info.get(_LOCKED, ()) else None


def note_locks(session: Session, *rows: Any) -> None:
    """Remember ``rows`` as locked by this transaction, for :func:`lock_row` and :func:`held_lock`."""
    if not session.in_nested_transaction():
        session.info.setdefault(_LOCKED, set()).update(identity_key(instance=row) for row in rows)


def loaded(session: Session, model: type[Any], row_id: int) -> Any:
    """The row as this session already holds it, or None (no query)."""
    return session.identity_map.get(identity_key(model, row_id))


def dialect_insert(session: Session, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` into ``model`` in the session's database's own dialect, which has ``ON CONFLICT``."""
    builder = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return builder(model)


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)


@contextmanager
def read_only(url: str | None = None) -> Iterator[Session]:
    """A session for a look before a unit of work, on a connection in autocommit mode: each
    statement reads on its own, with no ``BEGIN``/``ROLLBACK`` round trips and no transaction kept
    open (on SQLite, no write lock taken). For reads only — nothing is flushed or committed.

    The connection is checked out at the first statement, so a look answered from memory (a
    sold-out refusal in a rush) costs no pool checkout at all."""
    reading = get_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with Session(bind=reading, autoflush=False, expire_on_commit=False) as session:
        yield session


def missing_database(url: str | None = None) -> str | None:
    """Why the database cannot be used as it stands (an SQLite file that is not there), or None.

    Checked before connecting, because connecting would create an empty SQLite file.
    """
    parsed = make_url(url or get_settings().database_url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    if path.exists():
        return None
    return (
        f"No database at {path.resolve()}: run `boxoffice migrate` in this folder first, "
        "or set BOXOFFICE_DATABASE_URL."
    )


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Apply the Alembic migrations shipped with the package to ``url``."""
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(root))
    config.attributes["engine"] = get_engine(url)
    command.upgrade(config, revision)
