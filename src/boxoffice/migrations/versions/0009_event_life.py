"""event life (live, test mode), event and product details, test-mode orders, the activity log (issue #13)

Revision ID: 0009
Revises: 0008 (after the merge of main; the lead re-chains at integration)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events that existed before were selling: they stay live. New events start as drafts (the
    # application writes live=false explicitly).
    op.add_column("events", sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("events", sa.Column("test_mode", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("events", sa.Column("location", sa.String(500), nullable=False, server_default=""))
    op.add_column("events", sa.Column("description", sa.Text(), nullable=False, server_default=""))
    op.add_column("products", sa.Column("description", sa.Text(), nullable=False, server_default=""))
    op.add_column("products", sa.Column("available_from", sa.DateTime(timezone=True), nullable=True))
    op.add_column("products", sa.Column("available_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("products", sa.Column("max_per_order", sa.Integer(), nullable=True))
    op.add_column("orders", sa.Column("test_mode", sa.Boolean(), nullable=False, server_default=sa.false()))
    # "Does this event have test orders?" (the dashboard leaves them out only then) from the index alone.
    op.create_index("ix_orders_event_test_mode", "orders", ["event_id", "test_mode"])
    op.create_table(
        "activity_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organizer_id", sa.Integer(), sa.ForeignKey("organizers.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_activity_entries_organizer_id", "activity_entries", ["organizer_id", "id"])
    op.create_index("ix_activity_entries_event_id", "activity_entries", ["event_id"])


def downgrade() -> None:
    op.drop_table("activity_entries")
    op.drop_index("ix_orders_event_test_mode", table_name="orders")
    for table, column in (
        ("orders", "test_mode"),
        ("products", "max_per_order"),
        ("products", "available_until"),
        ("products", "available_from"),
        ("products", "description"),
        ("events", "description"),
        ("events", "location"),
        ("events", "test_mode"),
        ("events", "live"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
