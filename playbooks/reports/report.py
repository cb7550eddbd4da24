"""The reports as messages: the morning health post (seed 000's daily template) and the
evening and weekly reports (its 日报 and 周报). Pure: state and readings in, a message out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from playbooks.incidents.actions import WeekOfActions
from playbooks.incidents.actions import report_blocks as action_blocks
from playbooks.incidents.machine import Incident
from playbooks.incidents.stats import Figures
from playbooks.incidents.stats import blocks as figure_blocks
from playbooks.messages import Message, Severity, Text, raw, t
from playbooks.releases.guards import Reading
from playbooks.releases.machine import Release, ReleaseState
from playbooks.reports.metrics import Mark, MetricSpec, judge, line, sla_line
from playbooks.reports.notes import Note
from playbooks.reports.notes import blocks as note_blocks
from playbooks.reports.schedule import ReportKind, period_key
from playbooks.reports.sections import (
    MAJOR,
    MAX_LISTED,
    by_severity,
    incident_lists,
    levels,
    mean,
    more,
    open_line,
    problems,
    release_line,
)


@dataclass(frozen=True, slots=True)
class OnCall:
    team: str
    layer: str
    person: str | None


@dataclass(frozen=True, slots=True)
class ReleaseEnding:
    service: str
    version: str
    state: ReleaseState  # completed | rolled_back
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReportState:
    """What the database says, loaded in the transaction that posts the report."""

    incidents: Sequence[Incident] = ()  # touching the period, or unresolved
    releases: Sequence[Release] = ()  # live ones
    endings: Sequence[ReleaseEnding] = ()
    oncall: Sequence[OnCall] = ()
    running_since: datetime | None = None
    notes: Sequence[Note] = ()  # what people gave for the daily or weekly report
    # the weekly report's follow-up actions and response figures
    actions: WeekOfActions | None = None
    figures: Figures | None = None


@dataclass(frozen=True, slots=True)
class ReportRequest:
    kind: ReportKind
    start: datetime  # the period reported on: yesterday for the morning post
    end: datetime
    at: datetime  # when it is reported: the scheduled time, or now for /summary now
    tz: tzinfo
    services: tuple[str, ...]
    late_by: timedelta | None = None
    # service → (tier, availability objective), and the metric the objectives judge
    slas: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    sla_metric: str = "availability"
    # Services whose numbers are made up (the simulated source, outside a drill): each is
    # said to be simulated wherever its numbers show.
    simulated: frozenset[str] = frozenset()


def compose(
    req: ReportRequest,
    state: ReportState,
    *,
    metrics: Sequence[MetricSpec],
    readings: Mapping[str, Mapping[str, Reading]],
    now: datetime,
    chart: str | None = None,
    chart_note: str | None = None,
    chart_failed: bool = False,
) -> Message:
    blocks = _header(req)
    if req.late_by is not None:
        blocks.append(t("summary.late", late_by=req.late_by))
    if req.kind is ReportKind.DAILY:
        blocks += _morning(req, state, metrics=metrics, readings=readings, now=now)
    else:
        blocks += _period(req, state, metrics=metrics, readings=readings)
    if chart is None and chart_failed:
        blocks.append(t("summary.chart_failed"))
    elif chart is None and chart_note:
        blocks.append(t("summary.chart_none", reason=chart_note))
    worst = _worst(state, metrics=metrics, readings=readings)
    return Message(blocks=tuple(blocks), severity=worst, image=chart)


def _header(req: ReportRequest) -> list[Text]:
    day = req.at.astimezone(req.tz).date().isoformat()
    zone = str(req.tz)
    if req.kind is ReportKind.DAILY:
        return [t("summary.daily.header", date=day, tz=zone)]
    if req.kind is ReportKind.EVENING:
        return [t("summary.evening.header", date=day, tz=zone)]
    return [
        t(
            "summary.weekly.header",
            week=period_key(req.kind, req.at, req.tz),
            start=req.start.astimezone(req.tz).date().isoformat(),
            end=day,
            tz=zone,
        )
    ]


def _status(
    req: ReportRequest,
    *,
    metrics: Sequence[MetricSpec],
    readings: Mapping[str, Mapping[str, Reading]],
) -> list[Text]:
    blocks: list[Text] = []
    if not metrics:
        return [t("summary.no_metrics")]
    for service in req.services:
        made_up = service in req.simulated
        blocks.append(
            t("summary.service_simulated" if made_up else "summary.service", service=service)
        )
        taken = readings.get(service, {})
        for spec in metrics:
            reading = taken.get(spec.name) or Reading(error=t("guard.why.not_read"))
            blocks.append(line(spec, reading))
        if service in req.slas:
            tier, objective = req.slas[service]
            blocks.append(sla_line(tier, objective, taken.get(req.sla_metric)))
    if not req.services:
        blocks.append(t("summary.no_services"))
    return blocks


def _morning(
    req: ReportRequest,
    state: ReportState,
    *,
    metrics: Sequence[MetricSpec],
    readings: Mapping[str, Mapping[str, Reading]],
    now: datetime,
) -> list[Text]:
    blocks = [t("summary.section.status"), *_status(req, metrics=metrics, readings=readings)]
    still_open = by_severity([i for i in state.incidents if i.unresolved])
    blocks.append(t("summary.section.open", count=len(still_open), levels=levels(still_open)))
    blocks += [open_line(i, now=now) for i in still_open[:MAX_LISTED]]
    blocks += more(len(still_open))
    blocks.append(t("summary.section.releases", count=len(state.releases)))
    blocks += [release_line(r, simulated=r.service in req.simulated) for r in state.releases]
    if not state.releases:
        blocks.append(t("summary.none"))
    blocks.append(t("summary.section.oncall"))
    blocks += [
        t(
            "summary.oncall_line",
            team=o.team,
            layer=t(f"oncall.layer.{o.layer}"),
            person=raw(f"@{o.person}") if o.person else t("summary.oncall_nobody"),
        )
        for o in state.oncall
    ]
    if not state.oncall:
        blocks.append(t("summary.no_oncall"))
    opened, resolved = _opened(req, state), _resolved(req, state)
    blocks.append(t("summary.section.yesterday", opened=len(opened), resolved=len(resolved)))
    blocks += incident_lists(opened, resolved)
    return blocks


def _period(
    req: ReportRequest,
    state: ReportState,
    *,
    metrics: Sequence[MetricSpec],
    readings: Mapping[str, Mapping[str, Reading]],
) -> list[Text]:
    blocks: list[Text] = []
    if state.running_since is not None:
        days = (req.at - state.running_since).days + 1
        blocks.append(t("summary.running_days", days=days, since=state.running_since))
    blocks += [t("summary.section.metrics"), *_status(req, metrics=metrics, readings=readings)]
    opened, resolved = _opened(req, state), _resolved(req, state)
    blocks.append(
        t(
            "summary.section.incidents",
            opened=len(opened),
            opened_levels=levels(opened),
            resolved=len(resolved),
            resolved_levels=levels(resolved),
        )
    )
    acked = [i.acked_at - i.opened_at for i in opened if i.acked_at is not None]
    took = [i.resolved_at - i.opened_at for i in resolved if i.resolved_at is not None]
    blocks.append(
        t("summary.mtta", value=mean(acked), count=len(acked)) if acked else t("summary.mtta_none")
    )
    blocks.append(
        t("summary.mttr", value=mean(took), count=len(took)) if took else t("summary.mttr_none")
    )
    blocks += incident_lists(opened, resolved)
    completed = [e for e in state.endings if e.state is ReleaseState.COMPLETED]
    rolled_back = [e for e in state.endings if e.state is ReleaseState.ROLLED_BACK]
    blocks.append(
        t(
            "summary.section.release_outcomes",
            completed=len(completed),
            rolled_back=len(rolled_back),
        )
    )
    blocks += [
        t("summary.completed_line", service=e.service, version=e.version, at=e.at)
        for e in completed[:MAX_LISTED]
    ]
    blocks += [
        t("summary.rolled_back_line", service=e.service, version=e.version, reason=e.reason or "-")
        for e in rolled_back[:MAX_LISTED]
    ]
    blocks.append(t("summary.section.problems"))
    found = problems(
        state.incidents,
        [(e.service, e.version, e.reason) for e in rolled_back],
        since=req.start,
    )
    blocks += found or [t("summary.no_problems")]
    # Sections with nothing to say are left out: a week without actions or incidents
    # needs no line saying so.
    acts = state.actions
    if acts is not None and (acts.open or acts.closed):
        blocks += action_blocks(acts, today=req.at.astimezone(req.tz).date())
    if state.figures is not None and state.figures.total:
        blocks.append(t("summary.section.figures"))
        blocks += figure_blocks(state.figures)
    blocks += note_blocks(req.kind, state.notes)
    return blocks


def _opened(req: ReportRequest, state: ReportState) -> list[Incident]:
    # (start, end]: a report counts what happened after the one before it, up to itself.
    return by_severity([i for i in state.incidents if req.start < i.opened_at <= req.end])


def _resolved(req: ReportRequest, state: ReportState) -> list[Incident]:
    return by_severity(
        [
            i
            for i in state.incidents
            if i.resolved_at is not None and req.start < i.resolved_at <= req.end
        ]
    )


def _worst(
    state: ReportState,
    *,
    metrics: Sequence[MetricSpec],
    readings: Mapping[str, Mapping[str, Reading]],
) -> Severity:
    marks = {
        judge(spec, taken[spec.name])
        for taken in readings.values()
        for spec in metrics
        if spec.name in taken
    }
    if Mark.BAD in marks or any(i.unresolved and i.severity in MAJOR for i in state.incidents):
        return Severity.DANGER
    if Mark.WARN in marks or any(i.unresolved for i in state.incidents):
        return Severity.WARNING
    return Severity.SUCCESS
