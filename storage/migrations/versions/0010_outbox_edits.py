"""Outbox: posts that revise an earlier one, and the platform's reference to each message

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("edit_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("platform_ref", sa.String(length=200), nullable=True))
    op.create_index("ix_outbox_edit_key", "outbox", ["edit_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_edit_key", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("platform_ref")
        batch.drop_column("edit_key")
