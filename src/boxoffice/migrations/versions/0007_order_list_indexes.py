"""indexes for the organizer's order lists at a million orders (issue #10, docs/benchmarks.md)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (name, columns): read in order by the lists and counts of one event.
PORTABLE = (
    # filter[payment-state] (overpaid list, dashboard counts) sorted newest first: no sort of all matches.
    ("ix_orders_event_payment_state_created", ["event_id", "payment_state", "created_at"]),
    # filter[has-open-refund] and the dashboard's open-refunds count, per event.
    ("ix_orders_event_open_refund", ["event_id", "has_open_refund"]),
    # an event's orders newest first (the default sort) and the dashboard's sales per day.
    ("ix_orders_event_created", ["event_id", "created_at"]),
)


def upgrade() -> None:
    for name, columns in PORTABLE:
        op.create_index(name, "orders", columns)
    if op.get_bind().dialect.name == "postgresql":
        # filter[search] matches the start of the code or of the lower-cased e-mail (LIKE 'abc%').
        # Outside the C collation a plain b-tree cannot serve a prefix LIKE; the pattern operator
        # classes can. SQLite's LIKE is case-insensitive and uses no index either way.
        op.create_index(
            "ix_orders_code_pattern", "orders", ["code"], postgresql_ops={"code": "varchar_pattern_ops"}
        )
        op.create_index(
            "ix_orders_email_lower_pattern",
            "orders",
            [sa.text("lower(email) text_pattern_ops")],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_orders_email_lower_pattern", table_name="orders")
        op.drop_index("ix_orders_code_pattern", table_name="orders")
    for name, _ in reversed(PORTABLE):
        op.drop_index(name, table_name="orders")
