"""Database plumbing: engine, sessions, the unit of work, and column types shared by all models.

Services receive a :class:`~sqlalchemy.orm.Session` and never commit; whoever owns the use case (an
HTTP request, a CLI command, a job) opens :func:`unit_of_work`, which commits once at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Engine, MetaData, Numeric, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator, TypeEngine

from boxoffice.config import get_settings

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
        connection.exec_driver_sql("BEGIN IMMEDIATE")


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
                engine = create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, forked workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


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
