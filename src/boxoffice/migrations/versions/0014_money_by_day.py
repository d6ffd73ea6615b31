"""the per-day money rollup of each event, for the dashboard's chart (issue #16, docs/benchmarks.md)

Revision ID: 0014
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import boxoffice.db

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

# Rows per event and day (boxoffice.books.rollup.SLOTS when this was written).
SLOTS = 16

# What boxoffice.books.rollup keeps from now on, computed once from the rows there are: totals of
# pending and paid orders by the day they were placed, confirmed (or since refunded) payments by
# their payment date, done refunds by their execution date — in UTC days, slot = order id % SLOTS.
BACKFILL = f"""
INSERT INTO money_by_day (event_id, day, slot, sold, paid, refunded)
SELECT event_id, day, slot, sum(sold), sum(paid), sum(refunded) FROM (
    SELECT o.event_id AS event_id, date(o.created_at) AS day, o.id % {SLOTS} AS slot,
           o.total AS sold, 0 AS paid, 0 AS refunded
    FROM orders o WHERE o.status IN ('pending', 'paid')
    UNION ALL
    SELECT o.event_id, date(p.payment_date), o.id % {SLOTS}, 0, p.amount, 0
    FROM payments p JOIN orders o ON o.id = p.order_id
    WHERE p.state IN ('confirmed', 'refunded') AND p.payment_date IS NOT NULL
    UNION ALL
    SELECT o.event_id, date(r.execution_date), o.id % {SLOTS}, 0, 0, r.amount
    FROM refunds r JOIN orders o ON o.id = r.order_id
    WHERE r.state = 'done' AND r.execution_date IS NOT NULL
) AS moves
GROUP BY event_id, day, slot
"""


def upgrade() -> None:
    op.create_table(
        "money_by_day",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("sold", boxoffice.db.Amount(precision=18, scale=3), nullable=False),
        sa.Column("paid", boxoffice.db.Amount(precision=18, scale=3), nullable=False),
        sa.Column("refunded", boxoffice.db.Amount(precision=18, scale=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_money_by_day_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "day", "slot", name=op.f("pk_money_by_day")),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("money_by_day")
