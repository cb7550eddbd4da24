"""Between stored release rows and the domain's ``Release``: load, and save a result."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from sqlmodel import Session

from playbooks.effects import Conversation
from playbooks.messages import text_from_str, text_to_str
from playbooks.releases.guards import GuardState
from playbooks.releases.machine import HistoryEntry, Move, Release, ReleaseState, Result
from playbooks.releases.plan import Plan, TrafficKind
from storage.models import ReleaseEvent, ReleaseRow
from storage.repositories import releases as repo


def to_view(row: ReleaseRow, *, plan_text: str | None = None) -> Release:
    """The release of ``row``; with ``plan_text``, its plan as stored (``repo.PLAN_TEXT``),
    read from that text instead of from the row."""
    assert row.id is not None
    return Release(
        id=row.id,
        service=row.service,
        version=row.version,
        plan=plan_of(plan_text) if plan_text is not None else Plan.from_json(row.plan),
        state=ReleaseState(row.state),
        stage=row.stage,
        percent=row.percent,
        owner=row.owner,
        attempt=row.attempt,
        channel=Conversation.parse(row.channel),
        traffic=TrafficKind(row.traffic),
        metrics=row.metrics,
        started_at=row.started_at,
        stage_started_at=row.stage_started_at,
        paused_reason=text_from_str(row.paused_reason) if row.paused_reason else None,
        note=row.note,
        guards={name: GuardState.from_json(data) for name, data in row.guards.items()},
        approvals=frozenset(row.approvals),
    )


@lru_cache(maxsize=32)
def plan_of(text: str) -> Plan:
    """The plan a stored snapshot's text describes, built once per text: a release's plan
    is written when it starts and never changed, and the live releases of one plan share
    that text, so listing twenty builds it once (a ``Plan`` is immutable, safe to share)."""
    return Plan.from_json(json.loads(text))


def save(session: Session, row: ReleaseRow, result: Result, *, now: datetime) -> None:
    """Copy the result's release onto the row and append its history, in the caller's
    transaction."""
    r = result.release
    row.state = r.state.value
    row.stage = r.stage
    row.percent = r.percent
    row.attempt = r.attempt
    row.stage_started_at = r.stage_started_at
    row.paused_reason = text_to_str(r.paused_reason) if r.paused_reason else ""
    row.guards = {name: state.to_json() for name, state in r.guards.items()}
    row.approvals = sorted(r.approvals)
    row.updated_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    for entry in result.history:
        repo.add_event(session, event_row(row.id, r.attempt, entry))


def event_row(release_id: int, attempt: int, entry: HistoryEntry) -> ReleaseEvent:
    return ReleaseEvent(
        release_id=release_id,
        at=entry.at,
        actor=entry.actor,
        move=entry.move.value,
        from_state=entry.from_state.value if entry.from_state else None,
        to_state=entry.to_state.value,
        from_percent=entry.from_percent,
        to_percent=entry.to_percent,
        stage=entry.stage,
        attempt=attempt,
        reason=text_to_str(entry.reason) if entry.reason else "",
    )


def entry_of(event: ReleaseEvent) -> HistoryEntry:
    return HistoryEntry(
        at=event.at,
        actor=event.actor,
        move=Move(event.move),
        from_state=ReleaseState(event.from_state) if event.from_state else None,
        to_state=ReleaseState(event.to_state),
        from_percent=event.from_percent,
        to_percent=event.to_percent,
        stage=event.stage,
        reason=text_from_str(event.reason) if event.reason else None,
    )
