"""Heartbeats and maintenance windows

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("last_beat_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("beats", sa.Integer(), nullable=False),
        sa.Column("missing_since", storage.types.UTCDateTime(), nullable=True),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("starts_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("freeze", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(250), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.Column("end_posted", sa.Boolean(), nullable=False),
        sa.Column("arrived", sa.Integer(), nullable=False),
        sa.Column("arrivals", sa.JSON(), nullable=False),
        sa.Column("held_groups", sa.JSON(), nullable=False),
    )
    op.create_index("ix_maintenance_service", "maintenance_windows", ["service", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_service", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_table("heartbeats")
