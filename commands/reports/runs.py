"""Reports on their own: a subscription's timer firing, and the readings coming back."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from commands.core.observations import Reads, observing
from commands.incidents import actions as incident_actions
from commands.incidents import stats as incident_stats
from commands.reports import archive
from commands.reports import state as summary_state
from playbooks.effects import ArmTimer, Conversation, Post, Priority, ReadReport
from playbooks.releases.guards import Reading
from playbooks.releases.machine import Release
from playbooks.reports import notes as summary_notes
from playbooks.reports import subscriptions as rules
from playbooks.reports.notes import Note
from playbooks.reports.report import ReportRequest, compose
from playbooks.reports.schedule import ReportKind, jitter, parse_at, zone
from playbooks.reports.subscriptions import ReportAsk
from storage.models import SummaryRun, SummarySubscription, Timer
from storage.repositories import summaries as repo

log = logging.getLogger("shipwatch.summaries")
READINGS = "summary.readings"
RESUME = "summary.resume"
REREADING = "rereading"  # re-issued once at start-up; never again
CHARTS_KEPT = timedelta(days=90)  # links in old messages break after this


@dataclass(frozen=True, slots=True)
class ReportReadings:
    """A report's metrics as read: the report they were read for (``ReadReport.request``),
    each service's readings by metric name, and the chart drawn (its PNG and the token it
    is stored under), or why there is none."""

    kind: ClassVar[str] = READINGS
    request: ReportAsk
    readings: Mapping[str, Mapping[str, Reading]]
    chart: bytes | None = None
    chart_token: str | None = None
    chart_note: str | None = None  # no metric had points to draw: why
    chart_failed: bool = False  # drawing failed (the details are in the log)


@dataclass(frozen=True, slots=True)
class ResumeReports:
    """The bot has started: reports whose readings never came back are read again."""

    kind: ClassVar[str] = RESUME


def view(row: SummarySubscription) -> rules.Subscription:
    assert row.id is not None
    kind = ReportKind(row.kind)
    return rules.Subscription(
        id=row.id,
        conversation=Conversation(row.platform, row.channel),
        kind=kind,
        cadence=parse_at(row.at, kind=kind),
        tz=zone(row.timezone),
        services=tuple(row.services),
    )


def resume(ctx: SystemContext, payload: ResumeReports) -> None:
    """At start-up: a run left ``reading`` (a crash or restart before its readings came
    back) is read again, once, while still within its grace window; its run key would
    otherwise keep that period from ever posting."""
    for run in repo.runs_reading(ctx.session):
        row = repo.get(ctx.session, subscription_id=run.subscription_id)
        run.outcome = REREADING
        ctx.session.add(run)
        if row is None or row.state != "active":
            continue
        sub = view(row)
        offset = jitter(sub.id, spread=ctx.summaries.jitter)
        if ctx.now - run.scheduled_at > ctx.summaries.grace + offset:
            run.outcome = "missed"  # too late to post now, and said so in /summary list
            continue
        log.warning(
            "report read again after a restart",
            extra={"subscription": sub.id, "period": run.period},
        )
        ctx.effects.append(_read(ctx, sub, run, late_by=ctx.now - run.scheduled_at))


def _read(
    ctx: SystemContext, sub: rules.Subscription, run: SummaryRun, *, late_by: timedelta | None
) -> ReadReport:
    return with_response(
        ctx,
        rules.read_report(
            kind=sub.kind,
            end=run.scheduled_at,
            tz=sub.tz,
            conversation=sub.conversation,
            services=sub.services or tuple(ctx.releases.services),
            only=sub.services,
            settings=ctx.summaries,
            late_by=late_by,
            run_id=run.id,
        ),
    )


def with_response(ctx: CommandContext | SystemContext, read: ReadReport) -> ReadReport:
    """The weekly report's read, with its response figures by severity to draw: the bot
    draws them as bars beside the metrics. None when no incident was opened in the week."""
    ask = read.request
    if ask.kind is not ReportKind.WEEKLY:
        return read
    found = incident_stats.figures(ctx, since=ask.start, until=ask.at, services=ask.only)
    return replace(read, response=found.bars if found.total else ())


def summary_due(ctx: SystemContext, timer: Timer) -> None:
    """A subscription's time: arm the next run, then report on the latest period once."""
    row = repo.get(ctx.session, subscription_id=int(timer.payload["subscription_id"]))
    if row is None or row.state != "active":
        return
    sub = view(row)
    run = rules.due_run(sub, now=ctx.now, settings=ctx.summaries)
    scheduled, next_timer = rules.arm_next(sub, after=ctx.now, settings=ctx.summaries)
    row.next_run_at = scheduled
    ctx.session.add(row)
    ctx.effects += [next_timer, *notes_ask(row, scheduled, ctx=ctx)]
    record = SummaryRun(
        subscription_id=sub.id,
        period=run.period,
        scheduled_at=run.scheduled_at,
        ran_at=ctx.now,
        late=run.late_by is not None,
        outcome="missed" if run.missed else "reading",
    )
    if not repo.claim_run(ctx.session, record):
        return  # this period has run already
    if run.missed:
        log.warning(
            "report skipped: past the grace window",
            extra={"subscription": sub.id, "period": run.period},
        )
        return
    ctx.effects.append(_read(ctx, sub, record, late_by=run.late_by))


def readings(ctx: SystemContext, payload: ReportReadings) -> None:
    """The metrics are read (or failed to be): compose the report from the database as it
    is now and post it, the chart stored with it."""
    ask = payload.request
    run = None
    if ask.run_id is not None:
        run = repo.run(ctx.session, run_id=ask.run_id, for_update=True)
        if run is None or run.outcome not in ("reading", REREADING):
            return  # posted already (a read issued twice comes back twice)
    kind = ask.kind
    # Up to the report's time: what is still open now counts, not only the period's.
    state = summary_state.load(ctx, only=ask.only, start=ask.start, end=ask.at)
    if kind in summary_notes.SECTIONS:
        state = replace(state, notes=tuple(notes_given(ctx.session, kind, at=ask.at)))
    if kind is ReportKind.WEEKLY:
        state = replace(
            state,
            actions=incident_actions.week_for_report(
                ctx,
                start=ask.start,
                end=ask.at,
                today=ask.at.astimezone(ask.tz).date(),
                services=ask.only,
            ),
            figures=incident_stats.figures(ctx, since=ask.start, until=ask.at, services=ask.only),
        )
    chart_id = None
    repo.prune_charts(ctx.session, before=ctx.now - CHARTS_KEPT)
    if payload.chart and payload.chart_token is not None:
        chart_id = repo.store_chart(
            ctx.session,
            token=payload.chart_token,
            png=payload.chart,
            kind=kind.value,
            now=ctx.now,
        )
    message = compose(
        ReportRequest(
            kind=kind,
            start=ask.start,
            end=ask.end,
            at=ask.at,
            tz=ask.tz,
            services=ask.services,
            late_by=ask.late_by,
            slas=_slas(ctx, ask.services),
            sla_metric=ctx.summaries.sla_metric,
            simulated=_simulated(ctx, ask.services, state.releases),
        ),
        state,
        metrics=ctx.summaries.metrics,
        readings=payload.readings,
        now=ctx.now,
        chart=chart_id,
        chart_note=payload.chart_note,
        chart_failed=payload.chart_failed,
    )
    ctx.effects.append(Post(ask.conversation, message, priority=Priority.REPORT))
    archive.keep(ctx, ask, message, chart_id=chart_id, run_id=run.id if run else None)
    if run is not None:
        run.outcome = "posted"
        ctx.session.add(run)


def notes_ask(
    row: SummarySubscription, scheduled: datetime, *, ctx: CommandContext | SystemContext
) -> list[ArmTimer]:
    """The ask for notes before a daily or weekly report, while it is still ahead."""
    assert row.id is not None
    arm = summary_notes.reminder_timer(
        row.id, ReportKind(row.kind), scheduled, settings=ctx.summaries
    )
    return [arm] if arm is not None and arm.due_at > ctx.now else []


def notes_given(session: Session, kind: ReportKind, *, at: datetime) -> list[Note]:
    """The notes for the report of ``kind`` at ``at``: given since the one before."""
    rows = repo.notes(session, report=kind.value, after=summary_notes.since(kind, at), until=at)
    return [Note(r.section, r.text, r.author, r.created_at) for r in rows]


def _simulated(
    ctx: SystemContext, services: tuple[str, ...], releases: Sequence[Release]
) -> frozenset[str]:
    """The reported services, and the live releases' services, whose numbers are made up."""
    configured = ctx.releases.services
    return frozenset(
        [s for s in services if s in configured and ctx.simulated(configured[s].metrics)]
        + [r.service for r in releases if ctx.simulated(r.metrics)]
    )


def _slas(ctx: SystemContext, services: tuple[str, ...]) -> dict[str, tuple[str, float]]:
    """Each reported service's availability SLA: its tier and the tier's objective."""
    slas = {}
    for name in services:
        service = ctx.releases.services.get(name)
        tier = service.tier if service else None
        if tier is not None and tier in ctx.summaries.sla_tiers:
            slas[name] = (tier, ctx.summaries.sla_tiers[tier])
    return slas


OBSERVATION_HANDLERS = observing(Reads(ReportReadings, readings), Reads(ResumeReports, resume))
