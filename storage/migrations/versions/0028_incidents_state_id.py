"""Incidents: an index on state and id, so the newest open incidents are read state by
state, a screenful each, however many are open

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_state_id", "incidents", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_incidents_state_id", table_name="incidents")
