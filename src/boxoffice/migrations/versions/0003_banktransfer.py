"""banktransfer: statement imports, bank transactions and what they paid

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import boxoffice.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("encoding", sa.String(length=32), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("skipped_rows", sa.JSON(), nullable=False),
        sa.Column("duplicates", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", boxoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_bank_imports_event_id_events")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_bank_imports_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_imports")),
    )
    with op.batch_alter_table("bank_imports", schema=None) as batch_op:
        batch_op.create_index("ix_bank_imports_event_created", ["event_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_imports_job_id"), ["job_id"], unique=False)

    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", boxoffice.db.Amount(precision=18, scale=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("payer_iban", sa.String(length=64), nullable=False),
        sa.Column("payer_bic", sa.String(length=16), nullable=False),
        sa.Column("remittance", sa.Text(), nullable=False),
        sa.Column("bank_transaction_id", sa.String(length=200), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("booking_key", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", boxoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["bank_transactions.id"],
            name=op.f("fk_bank_transactions_duplicate_of_id_bank_transactions"),
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_bank_transactions_event_id_events")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["bank_imports.id"], name=op.f("fk_bank_transactions_import_id_bank_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint("event_id", "booking_key", name=op.f("uq_bank_transactions_event_id_booking_key")),
        sa.UniqueConstraint("event_id", "checksum", name=op.f("uq_bank_transactions_event_id_checksum")),
    )
    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_bank_transactions_event_state", ["event_id", "state", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_transactions_import_id"), ["import_id"], unique=False)

    op.create_table(
        "bank_transaction_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("amount", boxoffice.db.Amount(precision=18, scale=3), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_bank_transaction_matches_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_bank_transaction_matches_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_bank_transaction_matches_refund_id_refunds")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["bank_transactions.id"],
            name=op.f("fk_bank_transaction_matches_transaction_id_bank_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transaction_matches")),
    )
    with op.batch_alter_table("bank_transaction_matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_transaction_matches_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_transaction_matches_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_transaction_matches_refund_id"), ["refund_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bank_transaction_matches_transaction_id"), ["transaction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bank_transaction_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_transaction_matches_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_bank_transaction_matches_refund_id"))
        batch_op.drop_index(batch_op.f("ix_bank_transaction_matches_payment_id"))
        batch_op.drop_index(batch_op.f("ix_bank_transaction_matches_order_id"))
    op.drop_table("bank_transaction_matches")

    with op.batch_alter_table("bank_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_transactions_import_id"))
        batch_op.drop_index("ix_bank_transactions_event_state")
    op.drop_table("bank_transactions")

    with op.batch_alter_table("bank_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_imports_job_id"))
        batch_op.drop_index("ix_bank_imports_event_created")
    op.drop_table("bank_imports")
