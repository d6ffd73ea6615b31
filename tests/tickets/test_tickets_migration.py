"""Migration 0015 gives every position placed before it a ticket secret, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from boxoffice import db
from conftest import _create_postgres_database, _drop_postgres_database

ROWS = """
INSERT INTO organizers (id, slug, name, created_at) VALUES (1, 'old', 'Old', '2026-01-01 00:00:00+00:00');
INSERT INTO events (id, organizer_id, slug, name, currency, timezone, payment_providers, settings, created_at)
  VALUES (1, 1, 'fair', 'Fair', 'EUR', 'UTC', '{}', '{}', '2026-01-01 00:00:00+00:00');
INSERT INTO products (id, event_id, name, price, active, position) VALUES (1, 1, 'Regular', 49, true, 0);
INSERT INTO orders (id, event_id, code, secret, email, status, total, expires_at, created_at, holds_quota, locale,
                    payment_total, refund_total, pending_sum, payment_state, has_open_refund)
  VALUES (1, 1, 'AAAAA', 's', 'a@example.org', 'paid', 98, '2026-01-02 00:00:00+00:00', '2026-01-01 00:00:00+00:00',
          true, 'en', 98, 0, 0, 'paid', false);
INSERT INTO order_positions (id, order_id, product_id, price, canceled) VALUES (1, 1, 1, 49, false), (2, 1, 1, 49, false);
"""


@pytest.fixture
def empty_database(tmp_path: Path):  # type: ignore[no-untyped-def]
    server = os.environ.get("BOXOFFICE_TEST_DATABASE_URL")
    if server:
        url, name = _create_postgres_database(server, f"mig{uuid.uuid4().hex[:6]}")
        yield url
        db.dispose_engines()
        _drop_postgres_database(server, name)
    else:
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        db.dispose_engines()


def test_positions_placed_before_tickets_get_distinct_secrets(empty_database: str) -> None:
    db.migrate(empty_database, "0007")
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        for statement in ROWS.strip().split(";\n"):
            conn.execute(
                text(statement.replace("true", "1").replace("false", "0") if "sqlite" in empty_database else statement)
            )
    db.migrate(empty_database)
    with engine.begin() as conn:
        secrets = list(conn.execute(text("SELECT secret FROM order_positions ORDER BY id")).scalars())
    engine.dispose()
    assert len(secrets) == 2 and len(set(secrets)) == 2
    for secret in secrets:
        assert len(secret) >= 22 and all(c.isalnum() or c in "-_" for c in secret)
