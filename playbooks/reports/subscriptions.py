"""Report subscriptions: when each runs next, what a due run does, and the read it asks for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from playbooks.effects import ArmTimer, Conversation, ReadReport, ReportMetric
from playbooks.reports.metrics import SummarySettings
from playbooks.reports.schedule import (
    Cadence,
    ReportKind,
    jitter,
    last_run,
    next_run,
    period,
    period_key,
)

TIMER_KIND = "summary.due"
LATE_AFTER = timedelta(minutes=1)  # later than this past its time, a report says so
# Instant reads aggregate over the period; a chart samples each step over that step.
WINDOW = {ReportKind.DAILY: "24h", ReportKind.EVENING: "24h", ReportKind.WEEKLY: "7d"}
CHART_SPAN = {
    ReportKind.DAILY: (timedelta(hours=24), timedelta(minutes=15)),
    ReportKind.EVENING: (timedelta(hours=24), timedelta(minutes=15)),
    ReportKind.WEEKLY: (timedelta(days=7), timedelta(hours=2)),
}


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    conversation: Conversation
    kind: ReportKind
    cadence: Cadence
    tz: tzinfo
    services: tuple[str, ...]  # empty: every configured service


def timer_key(subscription_id: int) -> str:
    return f"summary:{subscription_id}"


def arm_next(
    sub: Subscription, *, after: datetime, settings: SummarySettings
) -> tuple[datetime, ArmTimer]:
    """The next run after ``after`` and the timer that fires it (jitter added)."""
    scheduled = next_run(sub.cadence, after=after, tz=sub.tz)
    timer = ArmTimer(
        key=timer_key(sub.id),
        kind=TIMER_KIND,
        due_at=scheduled + jitter(sub.id, spread=settings.jitter),
        payload={"subscription_id": sub.id, "scheduled_at": scheduled.isoformat()},
    )
    return scheduled, timer


@dataclass(frozen=True, slots=True)
class DueRun:
    """What a firing means: the period to report on, and how late it is (None: on time).
    ``missed`` when the latest run is further back than the grace window."""

    scheduled_at: datetime
    period: str
    late_by: timedelta | None
    missed: bool


def due_run(sub: Subscription, *, now: datetime, settings: SummarySettings) -> DueRun:
    """The latest run due by ``now``: after a long outage only the latest period is
    reported, and only within the grace window."""
    scheduled = last_run(sub.cadence, at=now, tz=sub.tz)
    behind = now - scheduled
    # The subscription's own jitter offset is when it is meant to fire, so it never
    # counts against the grace window.
    offset = jitter(sub.id, spread=settings.jitter)
    late = behind > offset + LATE_AFTER
    return DueRun(
        scheduled_at=scheduled,
        period=period_key(sub.kind, scheduled, sub.tz),
        late_by=behind if late else None,
        missed=behind > settings.grace + offset,
    )


@dataclass(frozen=True, slots=True)
class ReportAsk:
    """The report a ``ReadReport`` reads for, handed back with its readings: its kind, where
    it is posted, whose metrics are read (``services``) and whose incidents and releases it
    counts (``only``; all when empty), its period (``start`` to ``end``) and time (``at``),
    the timezone it is read in, how late it is, and its run (None for ``/summary now``)."""

    kind: ReportKind
    conversation: Conversation
    services: tuple[str, ...]
    only: tuple[str, ...]
    start: datetime
    end: datetime
    at: datetime
    tz: tzinfo
    late_by: timedelta | None = None
    run_id: int | None = None


def read_report(
    *,
    kind: ReportKind,
    end: datetime,
    tz: tzinfo,
    conversation: Conversation,
    services: Sequence[str],
    only: Sequence[str],
    settings: SummarySettings,
    late_by: timedelta | None = None,
    run_id: int | None = None,
) -> ReadReport:
    """Ask the bot to read the report's metrics, outside any transaction; the readings
    come back with ``request`` and the report is composed and posted then. ``services``
    get metric rows; incidents and releases are those of ``only`` (all when empty)."""
    start, stop = period(kind, end, tz)
    span, step = CHART_SPAN[kind]
    request = ReportAsk(
        kind=kind,
        conversation=conversation,
        services=tuple(services),
        only=tuple(only),
        start=start,
        end=stop,
        at=end,
        tz=tz,
        late_by=late_by,
        run_id=run_id,
    )
    return ReadReport(
        request=request,
        services=tuple(services),
        metrics=tuple(
            ReportMetric(m.name, m.query, chart=m.chart, simulated=m.simulated)
            for m in settings.metrics
        ),
        at=end,
        window=WINDOW[kind],
        chart_start=end - span,
        chart_step=step,
    )
