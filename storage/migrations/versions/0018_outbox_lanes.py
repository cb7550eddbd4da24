"""Outbox: a priority per message and the language of a reply; send holds shared by replicas

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(sa.Column("locale", sa.String(length=10), nullable=True))
    op.create_table(
        "send_holds",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("until", storage.types.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("send_holds")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("locale")
        batch.drop_column("priority")
