"""Alert groups and the incidents they feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AlertGroup, IncidentRow
from storage.repositories.incidents import UNRESOLVED


def get(session: Session, *, group_hash: str, for_update: bool = False) -> AlertGroup | None:
    query = select(AlertGroup).where(AlertGroup.group_hash == group_hash)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def storm_incident(session: Session, *, service: str, since: datetime) -> int | None:
    """The unresolved incident that a group of ``service`` joined most recently, if one
    joined at or after ``since``: the storm new groups of that service fold into."""
    query = (
        select(AlertGroup.incident_id)
        .join(IncidentRow, col(IncidentRow.id) == col(AlertGroup.incident_id))
        .where(
            AlertGroup.service == service,
            col(AlertGroup.joined_at) >= since,
            col(IncidentRow.state).in_(UNRESOLVED),
        )
        .order_by(col(AlertGroup.joined_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def of_incident(session: Session, *, incident_id: int) -> Sequence[AlertGroup]:
    query = select(AlertGroup).where(AlertGroup.incident_id == incident_id)
    return session.exec(query.order_by(col(AlertGroup.id))).all()


def save(session: Session, group: AlertGroup) -> None:
    session.add(group)
