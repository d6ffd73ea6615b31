"""Alembic environment: runs against the engine handed over by ``boxoffice.db.migrate``."""

from __future__ import annotations

from alembic import context

from boxoffice import models_registry  # noqa: F401  (imports every table)
from boxoffice.db import Base, get_engine

config = context.config
engine = config.attributes.get("engine") or get_engine()

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
