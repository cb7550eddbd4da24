"""Report notes: what people give for the daily and weekly reports before they run

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report", sa.String(length=20), nullable=False),
        sa.Column("section", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_summary_notes_report", "summary_notes", ["report", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_summary_notes_report", table_name="summary_notes")
    op.drop_table("summary_notes")
