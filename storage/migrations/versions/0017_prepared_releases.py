"""Releases: a prepared release (started, no traffic yet) holds its service too

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BEFORE = "state IN ('pending', 'in_stage', 'paused')"
AFTER = "state IN ('prepared', 'pending', 'in_stage', 'paused')"


def _one_active(where: str) -> None:
    with op.batch_alter_table("releases") as batch:
        batch.drop_index("uq_releases_one_active")
        batch.create_index(
            "uq_releases_one_active",
            ["service"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    _one_active(AFTER)


def downgrade() -> None:
    # A prepared release has moved no traffic: going back, it is given up on.
    op.execute("UPDATE releases SET state = 'aborted' WHERE state = 'prepared'")
    _one_active(BEFORE)
