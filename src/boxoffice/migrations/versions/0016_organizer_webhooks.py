"""organizers.enabled_webhooks: how many enabled outgoing webhook endpoints an organizer has (issue #16)

Revision ID: 0016
Revises: 0009

Placing and paying an order asks whether anyone listens before building a webhook event; with this
count on the organizer row (read with the order's event anyway) the common answer, "nobody", costs
no query. The webhooks service keeps it; here it is counted once from the endpoints there are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organizers", sa.Column("enabled_webhooks", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE organizers SET enabled_webhooks = (SELECT count(*) FROM webhook_endpoints"
        " WHERE webhook_endpoints.organizer_id = organizers.id AND webhook_endpoints.enabled)"
    )


def downgrade() -> None:
    with op.batch_alter_table("organizers") as batch:
        batch.drop_column("enabled_webhooks")
