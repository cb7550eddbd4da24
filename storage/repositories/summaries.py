"""Report subscriptions, their runs, rendered charts, and the reads a report makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import (
    AuditEntry,
    ChartImage,
    IncidentRow,
    ReleaseEvent,
    ReleaseRow,
    SummaryNote,
    SummaryRun,
    SummarySubscription,
)
from storage.repositories.releases import ACTIVE_STATES


def add(session: Session, row: SummarySubscription) -> SummarySubscription:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, subscription_id: int) -> SummarySubscription | None:
    return session.exec(
        select(SummarySubscription).where(SummarySubscription.id == subscription_id)
    ).first()


def active_in(session: Session, *, platform: str, channel: str) -> Sequence[SummarySubscription]:
    query = (
        select(SummarySubscription)
        .where(
            SummarySubscription.platform == platform,
            SummarySubscription.channel == channel,
            SummarySubscription.state == "active",
        )
        .order_by(col(SummarySubscription.id))
    )
    return session.exec(query).all()


def claim_run(session: Session, run: SummaryRun) -> bool:
    """Record a period's run; False when that period has run already (the unique key)."""
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return False
    return True


def run(session: Session, *, run_id: int, for_update: bool = False) -> SummaryRun | None:
    query = select(SummaryRun).where(SummaryRun.id == run_id)
    return session.exec(query.with_for_update() if for_update else query).first()


def runs_reading(session: Session) -> Sequence[SummaryRun]:
    """Runs claimed but never posted (their readings never came back), locked."""
    query = (
        select(SummaryRun)
        .where(SummaryRun.outcome == "reading")
        .order_by(col(SummaryRun.id))
        .with_for_update()
    )
    return session.exec(query).all()


def last_run(session: Session, *, subscription_id: int) -> SummaryRun | None:
    query = (
        select(SummaryRun)
        .where(SummaryRun.subscription_id == subscription_id)
        .order_by(col(SummaryRun.scheduled_at).desc())
        .limit(1)
    )
    return session.exec(query).first()


def store_chart(session: Session, *, token: str, png: bytes, kind: str, now: datetime) -> str:
    """Store a chart under ``token`` (or ``token-2``… when a kept drill database holds it)."""
    chart_id, n = token, 1
    while session.get(ChartImage, chart_id) is not None:
        n += 1
        chart_id = f"{token}-{n}"
    session.add(ChartImage(id=chart_id, png=png, kind=kind, created_at=now))
    session.flush()
    return chart_id


def prune_charts(session: Session, *, before: datetime) -> int:
    """Forget charts drawn before ``before``; returns how many."""
    result = session.execute(delete(ChartImage).where(col(ChartImage.created_at) < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


def chart(session: Session, *, chart_id: str) -> ChartImage | None:
    return session.get(ChartImage, chart_id)


def incidents_touching(
    session: Session, *, start: datetime, end: datetime, services: Sequence[str] = ()
) -> Sequence[IncidentRow]:
    """Incidents opened or resolved in (start, end], or unresolved then (a superset)."""
    query = select(IncidentRow).where(
        (col(IncidentRow.opened_at) <= end)
        & (
            (col(IncidentRow.resolved_at).is_(None))
            | (col(IncidentRow.resolved_at) >= start)
            | (col(IncidentRow.opened_at) >= start)
        )
    )
    if services:
        query = query.where(col(IncidentRow.service).in_(list(services)))
    return session.exec(query.order_by(col(IncidentRow.id))).all()


def live_releases(session: Session, *, services: Sequence[str] = ()) -> Sequence[ReleaseRow]:
    query = select(ReleaseRow).where(col(ReleaseRow.state).in_(ACTIVE_STATES))
    if services:
        query = query.where(col(ReleaseRow.service).in_(list(services)))
    return session.exec(query.order_by(col(ReleaseRow.service))).all()


def release_endings(
    session: Session, *, start: datetime, end: datetime, services: Sequence[str] = ()
) -> Sequence[tuple[ReleaseEvent, ReleaseRow]]:
    """Releases completed or rolled back in (start, end], with their release."""
    query = (
        select(ReleaseEvent, ReleaseRow)
        .join(ReleaseRow, col(ReleaseRow.id) == col(ReleaseEvent.release_id))
        .where(
            col(ReleaseEvent.to_state).in_(("completed", "rolled_back")),
            col(ReleaseEvent.at) > start,
            col(ReleaseEvent.at) <= end,
        )
    )
    if services:
        query = query.where(col(ReleaseRow.service).in_(list(services)))
    return [(e, r) for e, r in session.exec(query.order_by(col(ReleaseEvent.id))).all()]


def first_record(session: Session) -> datetime | None:
    """When Shipwatch first recorded anything: the start of its running days."""
    return session.exec(select(func.min(AuditEntry.at))).one()


def notes(session: Session, *, report: str, after: datetime, until: datetime) -> list[SummaryNote]:
    """The notes given for a report of ``report``'s kind in (``after``, ``until``]."""
    return list(
        session.exec(
            select(SummaryNote)
            .where(
                SummaryNote.report == report,
                col(SummaryNote.created_at) > after,
                col(SummaryNote.created_at) <= until,
            )
            .order_by(col(SummaryNote.id))
        ).all()
    )
