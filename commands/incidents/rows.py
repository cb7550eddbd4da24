"""Between stored incident rows and the domain's ``Incident``."""

from __future__ import annotations

from sqlmodel import Session

from playbooks.effects import Conversation
from playbooks.incidents import rooms
from playbooks.incidents.machine import Incident, IncidentState, Result, TimelineEntry
from playbooks.incidents.maintenance import WindowView
from playbooks.incidents.policy import SeverityPolicy
from storage.models import IncidentEvent, IncidentRow, MaintenanceWindow
from storage.repositories import incidents as repo


def to_view(row: IncidentRow) -> Incident:
    assert row.id is not None
    return Incident(
        id=row.id,
        title=row.title,
        severity=row.severity,
        state=IncidentState(row.state),
        service=row.service,
        channel=Conversation.parse(row.channel),
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        policy=SeverityPolicy.from_json(row.policy),
        commander=row.commander,
        comms_lead=row.comms_lead,
        scribe=row.scribe,
        acked_at=row.acked_at,
        resolved_at=row.resolved_at,
        started_at=row.started_at,
        reopened_at=row.reopened_at,
        respond_due=row.respond_due,
        start_due=row.start_due,
        resolve_due=row.resolve_due,
        respond_breached=row.respond_breached,
        start_breached=row.start_breached,
        resolve_breached=row.resolve_breached,
        checklist=dict(row.checklist),
    )


def save(session: Session, row: IncidentRow, result: Result) -> None:
    """Write the incident as ``result`` leaves it; where it has a room, what changed there
    (people brought in, the pinned summary edited) joins ``result.effects``."""
    i = result.incident
    opening = any(entry.kind == "open" for entry in result.timeline)
    if rooms.incident_of(i.channel.channel) is not None and row.id is not None and not opening:
        result.effects += rooms.changed(to_view(row), i, result.timeline)
    row.severity, row.state = i.severity, i.state.value
    row.commander, row.comms_lead, row.scribe = i.commander, i.comms_lead, i.scribe
    row.acked_at, row.resolved_at, row.reopened_at = i.acked_at, i.resolved_at, i.reopened_at
    row.respond_due, row.resolve_due = i.respond_due, i.resolve_due
    row.respond_breached, row.resolve_breached = i.respond_breached, i.resolve_breached
    row.started_at, row.start_due, row.start_breached = i.started_at, i.start_due, i.start_breached
    row.checklist = dict(i.checklist)
    session.add(row)
    if row.id is None:
        session.flush()  # its timeline needs its id; the rest is written at commit
    assert row.id is not None
    for entry in result.timeline:
        repo.add_event(
            session,
            IncidentEvent(
                incident_id=row.id, at=entry.at, actor=entry.actor, kind=entry.kind, text=entry.text
            ),
        )


def timeline_of(session: Session, row: IncidentRow) -> list[TimelineEntry]:
    assert row.id is not None
    return [
        TimelineEntry(e.at, e.actor, e.kind, e.text)
        for e in repo.events(session, incident_id=row.id)
    ]


def window_view(row: MaintenanceWindow) -> WindowView:
    assert row.id is not None
    return WindowView(
        id=row.id,
        service=row.service,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        freeze=row.freeze,
        created_by=row.created_by,
        arrived=row.arrived,
    )
