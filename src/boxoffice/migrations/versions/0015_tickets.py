"""tickets: a secret per position, check-in lists and the scans made at them (issue #15)

Revision ID: 0015
Revises: 0008
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import boxoffice.db

revision = "0015"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 5000


def _backfill_secrets() -> None:
    """Every existing position gets a ticket secret, as new ones get at insert."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # 32 bytes from two gen_random_uuid() (cryptographically random), base64url without padding.
        bind.exec_driver_sql(
            "UPDATE order_positions SET secret = translate(encode(decode("
            "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 'hex'), "
            "'base64'), '+/=', '-_') WHERE secret IS NULL"
        )
        return
    positions = sa.table("order_positions", sa.column("id", sa.Integer), sa.column("secret", sa.String))
    while True:
        ids = bind.execute(sa.select(positions.c.id).where(positions.c.secret.is_(None)).limit(BATCH)).scalars().all()
        if not ids:
            return
        for position_id in ids:
            bind.execute(
                positions.update().where(positions.c.id == position_id).values(secret=secrets.token_urlsafe(20))
            )


def upgrade() -> None:
    with op.batch_alter_table("order_positions") as batch_op:
        batch_op.add_column(sa.Column("secret", sa.String(length=64), nullable=True))
    _backfill_secrets()
    with op.batch_alter_table("order_positions") as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_order_positions_secret"), ["secret"])

    op.create_table(
        "check_in_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("all_products", sa.Boolean(), nullable=False),
        sa.Column("allow_reentry", sa.Boolean(), nullable=False),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_check_in_lists_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_lists")),
    )
    op.create_index(op.f("ix_check_in_lists_event_id"), "check_in_lists", ["event_id"])
    op.create_table(
        "check_in_list_products",
        sa.Column("check_in_list_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_in_list_id"],
            ["check_in_lists.id"],
            name=op.f("fk_check_in_list_products_check_in_list_id_check_in_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_check_in_list_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("check_in_list_id", "product_id", name=op.f("pk_check_in_list_products")),
    )
    op.create_index(op.f("ix_check_in_list_products_product_id"), "check_in_list_products", ["product_id"])
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_in_list_id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=True),
        sa.Column("admitted_position_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_in_list_id"],
            ["check_in_lists.id"],
            name=op.f("fk_checkins_check_in_list_id_check_in_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["position_id"], ["order_positions.id"], name=op.f("fk_checkins_position_id_order_positions")
        ),
        sa.ForeignKeyConstraint(
            ["admitted_position_id"],
            ["order_positions.id"],
            name=op.f("fk_checkins_admitted_position_id_order_positions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint(
            "check_in_list_id", "admitted_position_id", name=op.f("uq_checkins_check_in_list_id_admitted_position_id")
        ),
    )
    op.create_index("ix_checkins_list_position", "checkins", ["check_in_list_id", "position_id"])
    op.create_index("ix_checkins_list_id", "checkins", ["check_in_list_id", "id"])
    op.create_index(op.f("ix_checkins_position_id"), "checkins", ["position_id"])


def downgrade() -> None:
    op.drop_table("checkins")
    op.drop_table("check_in_list_products")
    op.drop_table("check_in_lists")
    with op.batch_alter_table("order_positions") as batch_op:
        batch_op.drop_constraint("uq_order_positions_secret", type_="unique")
        batch_op.drop_column("secret")
