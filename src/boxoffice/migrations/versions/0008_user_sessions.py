"""user sessions: logging out, changing the password and leaving a team end a login (issue #17)

Revision ID: 0008
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import boxoffice.db

revision = "0008"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", boxoffice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", boxoffice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_sessions_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
