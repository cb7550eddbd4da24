"""Incidents and their timelines, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, or_, select

from storage.models import IncidentEvent, IncidentRow

UNRESOLVED = ("open", "acknowledged", "mitigated")


def add(session: Session, row: IncidentRow) -> IncidentRow:
    session.add(row)
    session.flush()
    return row


# Statements read on every event are built once: building and keying a new one costs
# several times what running it does.
_BY_ID = select(IncidentRow).where(IncidentRow.id == bindparam("incident_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()


def get(session: Session, *, incident_id: int, for_update: bool = False) -> IncidentRow | None:
    query = _BY_ID_LOCKED if for_update else _BY_ID
    return session.exec(query, params={"incident_id": incident_id}).first()


def search(
    session: Session,
    *,
    unresolved_only: bool = False,
    severities: Sequence[str] = (),
    service: str | None = None,
    limit: int = 20,
) -> Sequence[IncidentRow]:
    """Newest first. Unresolved ones are read state by state, newest first on the
    (state, id) index, at most ``limit`` of each: one query for all of them would sort
    every open incident (ten thousand in a storm) to return a screenful."""
    query = select(IncidentRow)
    if severities:
        query = query.where(col(IncidentRow.severity).in_(list(severities)))
    if service is not None:
        query = query.where(IncidentRow.service == service)
    newest = col(IncidentRow.id).desc()
    if not unresolved_only:
        return session.exec(query.order_by(newest).limit(limit)).all()
    rows = [
        row
        for state in UNRESOLVED
        for row in session.exec(
            query.where(IncidentRow.state == state).order_by(newest).limit(limit)
        ).all()
    ]
    return sorted(rows, key=lambda row: row.id or 0, reverse=True)[:limit]


def page(
    session: Session,
    *,
    state: str = "all",
    severity: str | None = None,
    service: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Row[Any]]:
    """Up to ``limit`` incidents after the first ``offset``, newest first, as ``LISTED``
    columns: ``state`` is ``open`` (unresolved), ``resolved`` (resolved or closed) or
    ``all``; ``since`` and ``until`` bound the opening time (``until`` excluded).

    The database pages, walking the primary key from the newest and stopping once the
    page is full; it reads only the listed columns (not the policy snapshot, the widest)
    and counts nothing: a count would read every matching row, and with no index on
    severity or opening time, every row. So the first pages cost the same with ten
    thousand incidents as with ten."""
    query = sa_select(*LISTED)
    if state == "open":
        query = query.where(col(IncidentRow.state).in_(UNRESOLVED))
    elif state == "resolved":
        query = query.where(col(IncidentRow.state).not_in(UNRESOLVED))
    if severity is not None:
        query = query.where(col(IncidentRow.severity) == severity)
    if service is not None:
        query = query.where(col(IncidentRow.service) == service)
    if since is not None:
        query = query.where(col(IncidentRow.opened_at) >= since)
    if until is not None:
        query = query.where(col(IncidentRow.opened_at) < until)
    rows = session.execute(query.order_by(col(IncidentRow.id).desc()).limit(limit).offset(offset))
    return rows.all()


# What a line of a list shows of an incident, in this order.
LISTED = (
    col(IncidentRow.id),
    col(IncidentRow.title),
    col(IncidentRow.severity),
    col(IncidentRow.state),
    col(IncidentRow.service),
    col(IncidentRow.opened_at),
    col(IncidentRow.commander),
)


def add_event(session: Session, event: IncidentEvent) -> None:
    session.add(event)


def last_event_id(session: Session, *, incident_id: int) -> int:
    """The id of the incident's latest timeline line (0 when it has none)."""
    query = select(func.max(IncidentEvent.id)).where(IncidentEvent.incident_id == incident_id)
    return session.exec(query).one() or 0


def events(session: Session, *, incident_id: int) -> Sequence[IncidentEvent]:
    query = (
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(col(IncidentEvent.id))
    )
    return session.exec(query).all()


def of_services_since(
    session: Session, *, services: Sequence[str], since: datetime
) -> Sequence[IncidentRow]:
    """The incidents of ``services`` still unresolved or resolved since ``since``, oldest
    first (the status page's current incidents and its history)."""
    if not services:
        return []
    query = (
        select(IncidentRow)
        .where(col(IncidentRow.service).in_(list(services)))
        .where(
            or_(
                col(IncidentRow.state).in_(UNRESOLVED),
                col(IncidentRow.resolved_at).is_(None),
                col(IncidentRow.resolved_at) >= since,
            )
        )
        .order_by(col(IncidentRow.id))
    )
    return session.exec(query).all()


def events_of_kind(
    session: Session, *, incident_ids: Sequence[int], kind: str
) -> Sequence[IncidentEvent]:
    """One kind of timeline line of several incidents, in the order they were written."""
    if not incident_ids:
        return []
    query = (
        select(IncidentEvent)
        .where(col(IncidentEvent.incident_id).in_(list(incident_ids)))
        .where(IncidentEvent.kind == kind)
        .order_by(col(IncidentEvent.id))
    )
    return session.exec(query).all()
