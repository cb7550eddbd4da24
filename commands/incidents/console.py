"""What the web console reads of incidents: one page of the list, and everything one
incident's page shows. Each read is one short transaction, run on a database thread; the
card is ``/incident show``'s own (``views.show``), the timeline ``/incident timeline``'s
and the draft ``/incident postmortem``'s, so the page and the chat never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from commands.incidents import actions as incident_actions
from commands.incidents.rows import timeline_of, to_view
from commands.oncall import paging
from playbooks.incidents import views
from playbooks.incidents.actions import Action
from playbooks.incidents.machine import Incident, TimelineEntry
from playbooks.messages import Message, Text
from playbooks.oncall.paging import Page
from storage.repositories import incidents as repo
from storage.repositories import pages as page_repo
from storage.unit_of_work import unit_of_work

STATES = ("open", "resolved", "all")


@dataclass(frozen=True, slots=True)
class ListFilter:
    """Which incidents a list shows: ``state`` one of ``STATES``; ``since``/``until``
    bound the opening time (``until`` excluded)."""

    state: str = "open"
    severity: str | None = None
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """An incident as a line of the list shows it (its columns alone: no policy read)."""

    id: int
    title: str
    severity: str
    state: str
    service: str | None
    opened_at: datetime
    commander: str


@dataclass(frozen=True, slots=True)
class IncidentList:
    incidents: tuple[Listed, ...]
    more: bool  # older ones match too (the next page has some)


@dataclass(frozen=True, slots=True)
class Clock:
    """One SLA clock of the card: the catalog key of its label, and its deadline while it
    still runs (None once met, breached or not armed)."""

    label: str
    running_until: datetime | None


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    incident: Incident
    card: Message  # what /incident show says
    clocks: tuple[Clock, ...]
    timeline: Message  # what /incident timeline says, a field per entry
    entries: tuple[TimelineEntry, ...]
    actions: tuple[Action, ...]
    postmortem: Text  # what /incident postmortem says
    pages: tuple[Page, ...]  # its pages still open or acknowledged


def incident_list(engine: Engine, wanted: ListFilter, *, limit: int, offset: int) -> IncidentList:
    with unit_of_work(engine) as session:
        rows = repo.page(
            session,
            state=wanted.state,
            severity=wanted.severity,
            service=wanted.service,
            since=wanted.since,
            until=wanted.until,
            limit=limit + 1,  # one more: is there a next page?
            offset=offset,
        )
        listed = tuple(Listed(**dict(row._mapping)) for row in rows[:limit])
        return IncidentList(listed, more=len(rows) > limit)


def incident_detail(engine: Engine, incident_id: int, *, now: datetime) -> IncidentDetail | None:
    """None when there is no such incident. Actions' "overdue" counts from ``now``'s UTC
    date, as the draft's does."""
    with unit_of_work(engine) as session:
        row = repo.get(session, incident_id=incident_id)
        if row is None:
            return None
        incident = to_view(row)
        entries = timeline_of(session, row)
        actions = incident_actions.of_incident(session, incident_id)
        pages = page_repo.unresolved_of_incident(session, incident_id=incident_id)
        return IncidentDetail(
            incident=incident,
            # The actions have their own table on the page: the card leaves them out.
            card=views.show(
                incident, now=now, acked_by=views.acknowledger(incident, entries), actions=()
            ),
            clocks=_clocks(incident, now=now),
            timeline=views.timeline(incident, entries),
            entries=tuple(entries),
            actions=tuple(actions),
            postmortem=views.postmortem(incident, entries, now=now, actions=actions),
            pages=tuple(paging.to_view(p) for p in pages),
        )


def _clocks(i: Incident, *, now: datetime) -> tuple[Clock, ...]:
    def clock(label: str, due: datetime | None, done: datetime | None, breached: bool) -> Clock:
        running = due is not None and done is None and not breached and due > now
        return Clock(label, due if running else None)

    return (
        clock("incident.field.respond", i.respond_due, i.acked_at, i.respond_breached),
        clock("incident.field.start", i.start_due, i.started_at, i.start_breached),
        clock("incident.field.resolve", i.resolve_due, i.resolved_at, i.resolve_breached),
    )


def running_clocks(detail: IncidentDetail) -> dict[str, datetime]:
    """The card's clocks still counting down, by their label's catalog key."""
    return {c.label: c.running_until for c in detail.clocks if c.running_until is not None}
