"""Incidents: the start-handling clock (when handling started, its deadline, missed)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("started_at", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("start_due", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("start_breached", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("start_breached")
        batch.drop_column("start_due")
        batch.drop_column("started_at")
