"""Report subscriptions that come from summaries.yaml: their origin, unique

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("summary_subscriptions") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=250), nullable=True))
    op.create_index(
        "ux_summary_subscriptions_origin", "summary_subscriptions", ["origin"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_summary_subscriptions_origin", table_name="summary_subscriptions")
    with op.batch_alter_table("summary_subscriptions") as batch:
        batch.drop_column("origin")
