"""The lines reports are made of: incidents with their SLA state, releases with their
guards, the main problems, counts by severity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from playbooks.incidents.machine import Incident
from playbooks.messages import Text, raw, t
from playbooks.releases.guards import Verdict
from playbooks.releases.machine import Release

LEVELS = ("P0", "P1", "P2", "P3")
MAJOR = frozenset({"P0", "P1"})
MAX_LISTED = 10
MAX_PROBLEMS = 5
_GUARD_MARK = {Verdict.OK: "✅", Verdict.BREACH: "❌", Verdict.NO_DATA: "⚪", Verdict.ERROR: "⚪"}


def incident_lists(opened: Sequence[Incident], resolved: Sequence[Incident]) -> list[Text]:
    blocks: list[Text] = [
        t("summary.incident_new", severity=i.severity, id=i.id, title=i.title)
        for i in opened[:MAX_LISTED]
    ]
    blocks += more(len(opened))
    blocks += [
        t(
            "summary.incident_resolved",
            severity=i.severity,
            id=i.id,
            title=i.title,
            took=(i.resolved_at - i.opened_at) if i.resolved_at else None,
        )
        for i in resolved[:MAX_LISTED]
    ]
    blocks += more(len(resolved))
    return blocks


def problems(
    incidents: Sequence[Incident], rolled_back: Sequence[tuple[str, str, str]], *, since: datetime
) -> list[Text]:
    """The period's major or late incidents, then its rollbacks (service, version, reason):
    the seed's 主要问题."""
    serious = [
        i
        for i in by_severity(list(incidents))
        if (i.severity in MAJOR or i.respond_breached or i.start_breached or i.resolve_breached)
        and (i.unresolved or (i.resolved_at is not None and i.resolved_at >= since))
    ]
    found: list[Text] = []
    for i in serious:
        late = i.respond_breached or i.start_breached or i.resolve_breached
        found.append(
            t(
                "summary.problem_incident",
                n=len(found) + 1,
                severity=i.severity,
                id=i.id,
                title=i.title,
                state=t(f"incident.state.{i.state}"),
                sla=t("summary.sla_breached") if late else raw(""),
            )
        )
    for service, version, reason in rolled_back:
        found.append(
            t(
                "summary.problem_rollback",
                n=len(found) + 1,
                service=service,
                version=version,
                reason=reason or "-",
            )
        )
    return found[:MAX_PROBLEMS]


def open_line(i: Incident, *, now: datetime) -> Text:
    return t(
        "summary.incident_open",
        severity=i.severity,
        id=i.id,
        title=i.title,
        state=t(f"incident.state.{i.state}"),
        sla=sla_state(i, now=now),
    )


def sla_state(i: Incident, *, now: datetime) -> Text:
    """Where an unresolved incident stands against the clocks still running: respond
    until acknowledged, start handling until started, resolve."""
    running = [
        (clock, due, breached)
        for clock, due, breached, met in (
            ("respond", i.respond_due, i.respond_breached, i.acked_at),
            ("start", i.start_due, i.start_breached, i.started_at),
            ("resolve", i.resolve_due, i.resolve_breached, None),
        )
        if due is not None and met is None
    ]
    if not running:
        return raw("-")
    parts = [
        t(f"summary.sla.{clock}_over", over=now - due)
        if breached or now > due
        else t(f"summary.sla.{clock}_left", left=due - now)
        for clock, due, breached in running
    ]
    return t(f"incident.clocks.{len(parts)}", **{f"c{n}": p for n, p in enumerate(parts)})


def release_line(r: Release, *, simulated: bool = False) -> Text:
    """A live release in the morning post; ``simulated``: its guards read made-up numbers."""
    marks = ", ".join(
        f"{g.name} {_GUARD_MARK[r.guards[g.name].verdict] if g.name in r.guards else '…'}"
        for g in r.plan.guards
    )
    guards: Text | str = marks or "-"
    if simulated and marks:
        guards = t("summary.guards_simulated", guards=marks)
    return t(
        "summary.release_line",
        service=r.service,
        version=r.version,
        stage=r.stage_name,
        percent=r.percent,
        state=t(f"release.state.{r.state}"),
        guards=guards,
    )


def by_severity(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (rank(i.severity), i.id))


def rank(severity: str) -> int:
    return LEVELS.index(severity) if severity in LEVELS else len(LEVELS)


def levels(incidents: Sequence[Incident]) -> str:
    return " · ".join(
        f"{level} {sum(1 for i in incidents if i.severity == level)}" for level in LEVELS
    )


def more(total: int) -> list[Text]:
    return [t("summary.more", count=total - MAX_LISTED)] if total > MAX_LISTED else []


def mean(spans: Sequence[timedelta]) -> timedelta:
    return timedelta(seconds=round(sum(s.total_seconds() for s in spans) / len(spans)))
