"""Reports on their own: a subscription's timer firing, and the readings coming back."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from commands.core.context import CommandContext, SystemContext
from commands.incidents import actions as incident_actions
from commands.incidents import stats as incident_stats
from commands.reports import state as summary_state
from playbooks.effects import ArmTimer, Conversation, Post, Priority, ReadReport
from playbooks.releases.guards import Reading
from playbooks.releases.machine import Release
from playbooks.reports import notes as summary_notes
from playbooks.reports import subscriptions as rules
from playbooks.reports.notes import Note
from playbooks.reports.report import ReportRequest, compose
from playbooks.reports.schedule import ReportKind, jitter, parse_at, zone
from storage.models import SummaryRun, SummarySubscription, Timer
from storage.repositories import summaries as repo

log = logging.getLogger("shipwatch.summaries")
READINGS = "summary.readings"
RESUME = "summary.resume"
REREADING = "rereading"  # re-issued once at start-up; never again
CHARTS_KEPT = timedelta(days=90)  # links in old messages break after this


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


def resume(ctx: SystemContext, payload: Mapping[str, Any]) -> None:
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
    return rules.read_report(
        kind=sub.kind,
        end=run.scheduled_at,
        tz=sub.tz,
        conversation=sub.conversation,
        services=sub.services or tuple(ctx.releases.services),
        only=sub.services,
        settings=ctx.summaries,
        late_by=late_by,
        run_id=run.id,
    )


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


def readings(ctx: SystemContext, payload: Mapping[str, Any]) -> None:
    """The metrics are read (or failed to be): compose the report from the database as it
    is now and post it, the chart stored with it."""
    req: Mapping[str, Any] = payload["request"]
    run = None
    if req["run_id"] is not None:
        run = repo.run(ctx.session, run_id=int(req["run_id"]), for_update=True)
        if run is None or run.outcome not in ("reading", REREADING):
            return  # posted already (a read issued twice comes back twice)
    kind = ReportKind(req["kind"])
    start, end = datetime.fromisoformat(req["start"]), datetime.fromisoformat(req["end"])
    at = datetime.fromisoformat(req["at"])
    only = tuple(req["only"])
    # Up to the report's time: what is still open now counts, not only the period's.
    state = summary_state.load(ctx, only=only, start=start, end=at)
    if kind in summary_notes.SECTIONS:
        state = replace(state, notes=tuple(notes_given(ctx.session, kind, at=at)))
    if kind is ReportKind.WEEKLY:
        state = replace(
            state,
            actions=incident_actions.week_for_report(
                ctx,
                start=start,
                end=at,
                today=at.astimezone(zone(req["tz"])).date(),
                services=only,
            ),
            figures=incident_stats.figures(ctx, since=start, until=at, services=only),
        )
    chart_id = None
    repo.prune_charts(ctx.session, before=ctx.now - CHARTS_KEPT)
    if payload.get("chart"):
        chart_id = repo.store_chart(
            ctx.session,
            token=payload["chart_token"],
            png=payload["chart"],
            kind=kind.value,
            now=ctx.now,
        )
    taken: Mapping[str, Mapping[str, Any]] = payload["readings"]
    message = compose(
        ReportRequest(
            kind=kind,
            start=start,
            end=end,
            at=at,
            tz=zone(req["tz"]),
            services=tuple(req["services"]),
            late_by=timedelta(seconds=req["late_by"]) if req["late_by"] is not None else None,
            slas=_slas(ctx, tuple(req["services"])),
            sla_metric=ctx.summaries.sla_metric,
            simulated=_simulated(ctx, tuple(req["services"]), state.releases),
        ),
        state,
        metrics=ctx.summaries.metrics,
        readings={
            service: {name: Reading.from_json(data) for name, data in values.items()}
            for service, values in taken.items()
        },
        now=ctx.now,
        chart=chart_id,
        chart_note=payload.get("chart_note"),
        chart_failed=bool(payload.get("chart_failed")),
    )
    where = Conversation.parse(req["conversation"])
    ctx.effects.append(Post(where, message, priority=Priority.REPORT))
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
