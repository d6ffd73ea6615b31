"""inbox: provider events stored once; the sandbox processor's intents and refunds

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import boxoffice.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("received_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", boxoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["organizers.id"], name=op.f("fk_provider_events_organizer_id_organizers")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_provider_events_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
        sa.UniqueConstraint("provider", "external_id", name=op.f("uq_provider_events_provider_external_id")),
    )
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_events_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_provider_events_organizer", ["organizer_id", "id"], unique=False)
        batch_op.create_index("ix_provider_events_state_updated", ["state", "updated_at"], unique=False)

    op.create_table(
        "sandbox_intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("behaviour", sa.String(length=16), nullable=False),
        sa.Column("card_brand", sa.String(length=16), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("confirmation_token", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_intents")),
        sa.UniqueConstraint("confirmation_token", name=op.f("uq_sandbox_intents_confirmation_token")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_intents_idempotency_key")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_sandbox_intents_intent_id")),
    )
    op.create_table(
        "sandbox_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=False),
        sa.Column("intent_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"], ["sandbox_intents.intent_id"], name=op.f("fk_sandbox_refunds_intent_id_sandbox_intents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_refunds_idempotency_key")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_sandbox_refunds_refund_id")),
    )
    with op.batch_alter_table("sandbox_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_refunds_intent_id"), ["intent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sandbox_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_refunds_intent_id"))
    op.drop_table("sandbox_refunds")
    op.drop_table("sandbox_intents")
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_events_state_updated")
        batch_op.drop_index("ix_provider_events_organizer")
        batch_op.drop_index(batch_op.f("ix_provider_events_order_id"))
    op.drop_table("provider_events")
