"""Releases: every guard reading kept, and each minute's and quarter hour's lowest and
highest, for the release page's charts

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guard_readings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("releases.id"), nullable=False),
        sa.Column("guard", sa.String(length=100), nullable=False),
        sa.Column("at_second", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_guard_readings_series",
        "guard_readings",
        ["release_id", "guard", "at_second", "value"],
    )
    op.create_table(
        "guard_ranges",
        sa.Column("release_id", sa.Integer(), sa.ForeignKey("releases.id"), primary_key=True),
        sa.Column("guard", sa.String(length=100), primary_key=True),
        sa.Column("width", sa.Integer(), primary_key=True),
        sa.Column("at_second", sa.BigInteger(), primary_key=True),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("guard_ranges")
    op.drop_index("ix_guard_readings_series", table_name="guard_readings")
    op.drop_table("guard_readings")
