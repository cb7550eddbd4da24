"""What the web console's release pages read, in one transaction each on a database
thread: the live releases with what holds each, a page of past ones, and one release as
``/release status``, ``checklist``, ``gonogo`` and ``runbook`` show it, with each guard's
readings already cut into the chart's buckets and the moments its traffic changed.

Nothing here decides anything: the status, the blockers and the launch's views are the
commands' own (``lifecycle.status_gates``, ``views.status``, ``launch_views``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from commands.core.context import SystemContext
from commands.core.pipeline import Runtime, system_context
from commands.releases import launch_rows
from commands.releases.lifecycle import status_gates
from commands.releases.rows import to_view
from playbooks.launch import views as launch_views
from playbooks.messages import Message, Text
from playbooks.releases import views
from playbooks.releases.machine import OPEN, Move, Release
from playbooks.releases.plan import Guard
from storage.models import ReleaseRow
from storage.repositories import guard_readings
from storage.repositories import releases as repo
from storage.repositories.guard_readings import Bucket
from storage.unit_of_work import unit_of_work

# The moves that change where traffic stands: the chart marks each.
_TRAFFIC_MOVES = frozenset({Move.START, Move.GO, Move.APPLIED, Move.PROMOTE, Move.RETRY})
MAX_MARKS = 200


@dataclass(frozen=True, slots=True)
class Live:
    release: Release
    blockers: int


@dataclass(frozen=True, slots=True)
class Ended:
    release: Release
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class Listing:
    live: list[Live]
    past: list[Ended]
    past_total: int


@dataclass(frozen=True, slots=True)
class Mark:
    """Traffic moved at ``at``: into ``stage`` at ``percent`` (or back to 0 on a rollback)."""

    at: datetime
    stage: str
    percent: float
    move: Move


@dataclass(frozen=True, slots=True)
class Series:
    guard: Guard
    buckets: list[Bucket]


@dataclass(frozen=True, slots=True)
class Detail:
    release: Release
    live: bool  # the service's open release: what a command naming the service acts on
    status: Message
    blockers: list[Text]
    checklist: Message
    ticked: frozenset[int]  # checklist item numbers (1-based) already ticked
    gonogo: Message | None
    runbook: Message
    start: datetime  # the charts' span
    end: datetime
    series: list[Series]
    marks: list[Mark]


def listing(runtime: Runtime, *, now: datetime, offset: int, limit: int) -> Listing:
    with unit_of_work(runtime.engine) as session:
        ctx = system_context(session, runtime, now)
        live = []
        for row in repo.active(session):
            r = to_view(row)
            live.append(Live(r, len(views.holding(r, now=now, held_by=status_gates(ctx, r)))))
        rows, total = repo.past(session, offset=offset, limit=limit)
        past = [Ended(to_view(row), row.updated_at) for row in rows]
    return Listing(live=live, past=past, past_total=total)


def detail(runtime: Runtime, release_id: int, *, now: datetime, buckets: int) -> Detail | None:
    """One release as its page shows it, or None for an id no release has."""
    with unit_of_work(runtime.engine) as session:
        row = repo.get(session, release_id=release_id)
        if row is None:
            return None
        return _detail(system_context(session, runtime, now), row, buckets=buckets)


def release_of(engine: Engine, release_id: int) -> tuple[str, bool] | None:
    """The release's service, and whether it is the service's open release (what a
    command naming the service acts on); None for an id no release has."""
    with unit_of_work(engine) as session:
        row = repo.get(session, release_id=release_id)
        return (row.service, row.state in OPEN) if row is not None else None


def _detail(ctx: SystemContext, row: ReleaseRow, *, buckets: int) -> Detail:
    session, now = ctx.session, ctx.now
    r = to_view(row)
    live = r.state in OPEN
    held_by = status_gates(ctx, r) if live else []
    launch = launch_rows.load(session, r.id)
    end = now if live else row.updated_at
    return Detail(
        release=r,
        live=live,
        status=views.status(r, now=now, held_by=held_by, simulated=ctx.simulated(r.metrics)),
        blockers=views.holding(r, now=now, held_by=held_by),
        checklist=launch_views.checklist(r, launch),
        ticked=frozenset(launch.checks),
        gonogo=launch_views.gonogo(r, launch.assessment) if launch.assessment else None,
        runbook=launch_views.runbook(r, launch, now=now),
        start=r.started_at,
        end=end,
        series=[
            Series(guard, _series(session, r, guard, end=end, buckets=buckets))
            for guard in r.plan.guards
        ],
        marks=_marks(session, r),
    )


def _series(
    session: Session, r: Release, guard: Guard, *, end: datetime, buckets: int
) -> list[Bucket]:
    return guard_readings.series(
        session, release_id=r.id, guard=guard.name, start=r.started_at, end=end, buckets=buckets
    )


def _marks(session: Session, r: Release) -> list[Mark]:
    found = []
    for event in repo.events(session, release_id=r.id, limit=MAX_MARKS):
        move = Move(event.move)
        if move in _TRAFFIC_MOVES or move is Move.ROLLBACK:
            found.append(Mark(at=event.at, stage=event.stage, percent=event.to_percent, move=move))
    return found
