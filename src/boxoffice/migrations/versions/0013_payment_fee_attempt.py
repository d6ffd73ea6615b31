"""a payment fee line names the attempt that pays it, so fees not paid yet follow the amount left

Revision ID: 0013
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_fees") as batch:
        batch.add_column(sa.Column("payment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_order_fees_payment_id_payments"), "payments", ["payment_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("order_fees") as batch:
        batch.drop_constraint(op.f("fk_order_fees_payment_id_payments"), type_="foreignkey")
        batch.drop_column("payment_id")
