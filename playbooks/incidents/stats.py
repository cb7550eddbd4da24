"""Response figures over a window: incidents by severity, time to acknowledge and to
resolve (median and 90th percentile), how often the severity policy's respond and resolve
clocks were met, who was paged how often, and the noisiest alert groups. Pure: what was
stored goes in, figures and their lines come out.

An incident counts in the window it was opened in. A clock counts once it is decided: met
or missed, or still running past its due time (missed); one still inside its time is left
out, neither met nor missed yet.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from playbooks.effects import ResponseBar
from playbooks.incidents.machine import Incident
from playbooks.lists import listed
from playbooks.messages import Message, Text, t

LEVELS = ("P0", "P1", "P2", "P3")
TOP_GROUPS = 5
TOP_PEOPLE = 10
MAX_GROUP_SHOWN = 80  # characters of an alert group's key


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and 90th percentile of some durations, and how many there were."""

    median: timedelta
    p90: timedelta
    count: int


@dataclass(frozen=True, slots=True)
class Attainment:
    met: int
    decided: int

    @property
    def percent(self) -> float:
        return 100.0 * self.met / self.decided if self.decided else 0.0


@dataclass(frozen=True, slots=True)
class AlertGroupSeen:
    """An alert group that fed an incident in the window."""

    key: str
    service: str | None
    incident_id: int
    firing: int  # alerts firing at its last notification


@dataclass(frozen=True, slots=True)
class Figures:
    since: datetime
    until: datetime
    service: str | None
    by_severity: dict[str, int]
    mtta: Spread | None
    mttr: Spread | None
    respond: Attainment
    resolve: Attainment
    pages: list[tuple[str, int]]  # person, times paged; most first
    groups: list[AlertGroupSeen]
    bars: tuple[ResponseBar, ...] = ()  # per severity, for the weekly report's chart

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())


def spread(durations: Sequence[timedelta]) -> Spread | None:
    if not durations:
        return None
    seconds = sorted(d.total_seconds() for d in durations)
    median = statistics.median(seconds)
    # "inclusive": the 90th percentile lies within what was seen, never beyond the worst.
    p90 = (
        statistics.quantiles(seconds, n=10, method="inclusive")[-1]
        if len(seconds) > 1
        else seconds[0]
    )
    return Spread(
        median=timedelta(seconds=round(median)),
        p90=timedelta(seconds=round(p90)),
        count=len(seconds),
    )


def _attainment(
    clocks: Sequence[tuple[datetime | None, datetime | None]], *, now: datetime
) -> Attainment:
    """``clocks``: each one's due time and when it was done (None: not yet)."""
    met = decided = 0
    for due, done in clocks:
        if due is None:
            continue
        if done is not None:
            decided += 1
            met += done <= due
        elif now > due:
            decided += 1
    return Attainment(met, decided)


def compute(
    incidents: Sequence[Incident],
    *,
    paged: Sequence[tuple[int | None, Sequence[str]]],
    groups: Sequence[AlertGroupSeen],
    since: datetime,
    until: datetime,
    service: str | None = None,
) -> Figures:
    """Figures of the incidents opened in [since, until]; ``paged`` holds who each page of
    the window reached (with the page's incident), ``groups`` the alert groups that fed
    its incidents. For one service, only the pages of its incidents count."""
    window = [i for i in incidents if since <= i.opened_at <= until]
    counts = Counter(i.severity for i in window)
    ids = {i.id for i in window}
    people: Counter[str] = Counter(
        person
        for incident_id, reached in paged
        if service is None or incident_id in ids
        for person in set(reached)
    )
    return Figures(
        since=since,
        until=until,
        service=service,
        by_severity={level: counts.get(level, 0) for level in LEVELS},
        mtta=spread([i.acked_at - i.opened_at for i in window if i.acked_at is not None]),
        mttr=spread([i.resolved_at - i.opened_at for i in window if i.resolved_at is not None]),
        respond=_attainment([(i.respond_due, i.acked_at) for i in window], now=until),
        resolve=_attainment([(i.resolve_due, i.resolved_at) for i in window], now=until),
        pages=sorted(people.items(), key=lambda item: (-item[1], item[0]))[:TOP_PEOPLE],
        groups=sorted(
            (g for g in groups if g.incident_id in ids), key=lambda g: (-g.firing, g.key)
        )[:TOP_GROUPS],
        bars=tuple(_bar(level, [i for i in window if i.severity == level]) for level in LEVELS),
    )


def _bar(level: str, opened: Sequence[Incident]) -> ResponseBar:
    mtta = spread([i.acked_at - i.opened_at for i in opened if i.acked_at is not None])
    mttr = spread([i.resolved_at - i.opened_at for i in opened if i.resolved_at is not None])
    return ResponseBar(
        severity=level,
        opened=len(opened),
        mtta=mtta.median if mtta else None,
        mttr=mttr.median if mttr else None,
    )


def _spread_line(key: str, value: Spread | None) -> Text:
    if value is None:
        return t(f"{key}_none")
    return t(key, median=value.median, p90=value.p90, count=value.count)


def _attainment_line(key: str, value: Attainment) -> Text:
    if not value.decided:
        return t(f"{key}_none")
    return t(key, met=value.met, decided=value.decided, percent=round(value.percent))


def blocks(figures: Figures) -> list[Text]:
    """The figures as lines, for /incident stats and the weekly report alike; one line
    when there is nothing to measure."""
    if not figures.total:
        return [t("stats.none")]
    levels = " · ".join(f"{level} {n}" for level, n in figures.by_severity.items())
    lines: list[Text] = [
        t("stats.count", total=figures.total, levels=levels),
        _spread_line("stats.mtta", figures.mtta),
        _spread_line("stats.mttr", figures.mttr),
        _attainment_line("stats.sla_respond", figures.respond),
        _attainment_line("stats.sla_resolve", figures.resolve),
    ]
    if figures.pages:
        paged = listed(f"@{person} {n}" for person, n in figures.pages)
        lines.append(t("stats.pages", people=paged))
    else:
        lines.append(t("stats.pages_none"))
    if figures.groups:
        lines.append(t("stats.groups"))
        lines += [
            t(
                "stats.group",
                group=_short(g.key),
                service=g.service or "-",
                id=g.incident_id,
                firing=g.firing,
            )
            for g in figures.groups
        ]
    return lines


def _short(key: str) -> str:
    return key if len(key) <= MAX_GROUP_SHOWN else key[: MAX_GROUP_SHOWN - 1] + "…"


def message(figures: Figures) -> Message:
    header = (
        t("stats.header_service", since=figures.since, service=figures.service)
        if figures.service
        else t("stats.header", since=figures.since)
    )
    return Message(blocks=(header, *blocks(figures)))
