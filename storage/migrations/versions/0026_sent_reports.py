"""Reports as they were posted, for the web console's list of past reports

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("period_start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("period_end", storage.types.UTCDateTime(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("chart_id", sa.String(length=40), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["summary_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sent_reports_kind", "sent_reports", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_sent_reports_kind", table_name="sent_reports")
    op.drop_table("sent_reports")
