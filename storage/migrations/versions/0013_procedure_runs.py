"""Procedure runs: rollback runbooks and emergency playbooks, tracked step by step

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("procedure", sa.JSON(), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_procedure_runs_open", "procedure_runs", ["closed_at", "id"])
    op.create_index("ix_procedure_runs_release_id", "procedure_runs", ["release_id"])


def downgrade() -> None:
    op.drop_index("ix_procedure_runs_release_id", table_name="procedure_runs")
    op.drop_index("ix_procedure_runs_open", table_name="procedure_runs")
    op.drop_table("procedure_runs")
