"""What response figures are computed from: incidents opened in a window, the pages of
that window and the alert groups that fed those incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AlertGroup, IncidentRow, PageRow

MAX_ROWS = 10_000  # a window's worth; a bigger one is read up to this many


def incidents_opened(
    session: Session, *, since: datetime, until: datetime, service: str | None = None
) -> Sequence[IncidentRow]:
    query = select(IncidentRow).where(
        col(IncidentRow.opened_at) >= since, col(IncidentRow.opened_at) <= until
    )
    if service is not None:
        query = query.where(IncidentRow.service == service)
    return session.exec(query.order_by(col(IncidentRow.id)).limit(MAX_ROWS)).all()


def pages_created(
    session: Session, *, since: datetime, until: datetime
) -> list[tuple[int | None, list[str]]]:
    """Each page's incident (if any) and the people it reached."""
    query = select(PageRow.incident_id, PageRow.paged).where(
        col(PageRow.created_at) >= since, col(PageRow.created_at) <= until
    )
    return [
        (incident_id, list(paged)) for incident_id, paged in session.exec(query.limit(MAX_ROWS))
    ]


def alert_groups_of(session: Session, *, incident_ids: Sequence[int]) -> Sequence[AlertGroup]:
    if not incident_ids:
        return []
    query = select(AlertGroup).where(col(AlertGroup.incident_id).in_(list(incident_ids)))
    return session.exec(query.order_by(col(AlertGroup.id)).limit(MAX_ROWS)).all()
