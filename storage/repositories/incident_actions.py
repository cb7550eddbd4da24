"""Incident follow-up actions, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import IncidentAction, IncidentRow

OPEN = "open"


def add(session: Session, row: IncidentAction) -> IncidentAction:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, action_id: int, for_update: bool = False) -> IncidentAction | None:
    query = select(IncidentAction).where(IncidentAction.id == action_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def of_incident(session: Session, *, incident_id: int) -> Sequence[IncidentAction]:
    query = (
        select(IncidentAction)
        .where(IncidentAction.incident_id == incident_id)
        .order_by(col(IncidentAction.id))
    )
    return session.exec(query).all()


def search(
    session: Session,
    *,
    owner: str | None = None,
    open_only: bool = False,
    incident_id: int | None = None,
    limit: int = 50,
) -> Sequence[IncidentAction]:
    """Open ones first, then by number."""
    query = select(IncidentAction)
    if owner is not None:
        query = query.where(IncidentAction.owner == owner)
    if open_only:
        query = query.where(IncidentAction.state == OPEN)
    if incident_id is not None:
        query = query.where(IncidentAction.incident_id == incident_id)
    query = query.order_by((col(IncidentAction.state) != OPEN), col(IncidentAction.id))
    return session.exec(query.limit(limit)).all()


def for_report(
    session: Session, *, start: datetime, services: Sequence[str] = ()
) -> Sequence[IncidentAction]:
    """Open actions and those closed since ``start``, of incidents of ``services`` (of
    every incident when empty)."""
    query = select(IncidentAction).where(
        (col(IncidentAction.state) == OPEN) | (col(IncidentAction.closed_at) > start)
    )
    if services:
        query = query.join(IncidentRow, col(IncidentRow.id) == col(IncidentAction.incident_id))
        query = query.where(col(IncidentRow.service).in_(list(services)))
    return session.exec(query.order_by(col(IncidentAction.id))).all()
