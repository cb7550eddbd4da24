"""Web console sessions: a hash of each session id, whose it is, until when, its form token

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_sessions_handle", "web_sessions", ["handle", "revoked"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_handle", table_name="web_sessions")
    op.drop_table("web_sessions")
