"""The public status page's rules: what the public is told, and how a component's state
follows from the open incidents of its service. Pure: ``now`` is a parameter.

Only what was said for the public reaches the page: the public title
(``/incident public-title``) and the public updates (``/incident update ID --public``).
An incident's own title, its notes and internal updates, the people on it and the
labels of the alerts that opened it never do; a page is built from ``PublicIncident``s,
which carry nothing else.

A component's state, from the worst open incident of its service:

    P0 → major outage, P1 → partial outage, P2 and P3 → degraded;
    a mitigated incident (impact contained, still watched) → degraded whatever its
    severity; no open incident but a maintenance window in progress → maintenance;
    otherwise operational.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from playbooks.effects import Post
from playbooks.incidents import machine as lifecycle
from playbooks.incidents.machine import Incident, Result, TimelineEntry
from playbooks.messages import Message, Text, raw, t, text_to_str

PUBLIC_UPDATE = "public_update"
PUBLIC_TITLE = "public_title"
HISTORY_DAYS = 90


class ComponentState(StrEnum):
    OPERATIONAL = "operational"
    MAINTENANCE = "maintenance"
    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


S = ComponentState
# Worst last: a component shows the worst state any of its incidents puts it in.
ORDER = (S.OPERATIONAL, S.MAINTENANCE, S.DEGRADED, S.PARTIAL_OUTAGE, S.MAJOR_OUTAGE)
SEVERITY_STATE: Mapping[str, ComponentState] = {
    "P0": S.MAJOR_OUTAGE,
    "P1": S.PARTIAL_OUTAGE,
    "P2": S.DEGRADED,
    "P3": S.DEGRADED,
}


def worst(states: Sequence[ComponentState]) -> ComponentState:
    return max(states, key=ORDER.index, default=S.OPERATIONAL)


@dataclass(frozen=True, slots=True)
class Names:
    """A name in each language the page speaks; zh falls back to en."""

    en: str
    zh: str | None = None

    def in_(self, locale: str) -> str:
        return self.zh if locale == "zh" and self.zh else self.en


@dataclass(frozen=True, slots=True)
class Component:
    service: str
    name: Names
    group: Names | None = None


@dataclass(frozen=True, slots=True)
class Maintenance:
    services: tuple[str, ...]
    start: datetime
    end: datetime
    title: Names

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True, slots=True)
class StatusSettings:
    """``status.yaml``: whether the page is on, its title, its components in order."""

    enabled: bool = False
    title: Names = field(default_factory=lambda: Names("Service status", "服务状态"))
    components: tuple[Component, ...] = ()
    maintenance: tuple[Maintenance, ...] = ()

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(c.service for c in self.components)


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class PublicIncident:
    """What the public may know of an incident, and nothing more."""

    id: int
    service: str
    severity: str
    mitigated: bool
    opened_at: datetime
    resolved_at: datetime | None  # None while unresolved
    public_title: str | None
    updates: tuple[PublicUpdate, ...] = ()

    @property
    def state(self) -> ComponentState:
        if self.mitigated:
            return S.DEGRADED
        return SEVERITY_STATE.get(self.severity, S.DEGRADED)

    def title(self) -> Text:
        """Its public title, else a plain sentence for what the public sees."""
        if self.public_title:
            return raw(self.public_title)
        return t(f"status.default_title.{self.state}")

    def during(self, day: date) -> bool:
        start, end = self.opened_at.date(), (self.resolved_at.date() if self.resolved_at else None)
        return start <= day and (end is None or day <= end)


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    state: ComponentState
    incidents: tuple[int, ...] = ()  # the ids of the incidents of that day


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    component: Component
    state: ComponentState
    current: tuple[PublicIncident, ...]
    history: tuple[DayBar, ...]


@dataclass(frozen=True, slots=True)
class StatusPage:
    overall: ComponentState
    components: tuple[ComponentStatus, ...]
    current: tuple[PublicIncident, ...]  # unresolved, newest first
    past: tuple[PublicIncident, ...]  # resolved within the history, newest first
    maintenance: tuple[Maintenance, ...]  # in progress
    generated_at: datetime


def history_since(now: datetime, days: int = HISTORY_DAYS) -> datetime:
    """The start of the first day the history shows (days are ``now``'s calendar days)."""
    first = now.date() - timedelta(days=days - 1)
    return datetime.combine(first, time(), tzinfo=now.tzinfo)


def status_page(
    settings: StatusSettings,
    incidents: Sequence[PublicIncident],
    *,
    now: datetime,
    days: int = HISTORY_DAYS,
) -> StatusPage:
    """The page: each component's state and its ``days`` of history (UTC days, today
    last), the current incidents and the past ones."""
    today = now.date()
    first = today - timedelta(days=days - 1)
    in_force = tuple(m for m in settings.maintenance if m.active(now))
    components = []
    for component in settings.components:
        mine = [i for i in incidents if i.service == component.service]
        current = _newest_first(i for i in mine if i.resolved_at is None)
        under_maintenance = any(component.service in m.services for m in in_force)
        states = [i.state for i in current] or ([S.MAINTENANCE] if under_maintenance else [])
        history = tuple(
            _bar(first + timedelta(days=n), mine, settings.maintenance, component.service)
            for n in range(days)
        )
        components.append(ComponentStatus(component, worst(states), current, history))
    public = [i for i in incidents if i.service in settings.services]
    return StatusPage(
        overall=worst([c.state for c in components]),
        components=tuple(components),
        current=_newest_first(i for i in public if i.resolved_at is None),
        past=_newest_first(
            i for i in public if i.resolved_at is not None and i.resolved_at.date() >= first
        ),
        maintenance=in_force,
        generated_at=now,
    )


def _newest_first(incidents: Iterable[PublicIncident]) -> tuple[PublicIncident, ...]:
    return tuple(sorted(incidents, key=lambda i: (i.opened_at, i.id), reverse=True))


def _bar(
    day: date, incidents: Sequence[PublicIncident], windows: Sequence[Maintenance], service: str
) -> DayBar:
    that_day = [i for i in incidents if i.during(day)]
    if that_day:
        return DayBar(day, worst([i.state for i in that_day]), tuple(i.id for i in that_day))
    if any(service in m.services and m.start.date() <= day <= m.end.date() for m in windows):
        return DayBar(day, S.MAINTENANCE)
    return DayBar(day, S.OPERATIONAL)


# ---------------------------------------------------------------- what is said in public


def public_update(i: Incident, *, actor: str, now: datetime, text: str) -> Result:
    """An update meant for the public: on the timeline marked public, posted to the
    incident's channel (so the responders see what the public was told), and counting
    as the update the severity's update clock asks for."""
    result = lifecycle.status_update(i, actor=actor, now=now, text=text)
    said = t("incident.public_update_posted", id=i.id, actor=actor, text=text)
    result.timeline = [TimelineEntry(now, actor, PUBLIC_UPDATE, text_to_str(raw(text)))]
    result.effects = [
        replace(e, message=replace(e.message, blocks=(said,))) if isinstance(e, Post) else e
        for e in result.effects
    ]
    result.reply = Message.of(said)
    return result


def public_title(i: Incident, title: str, *, actor: str, now: datetime) -> Result:
    """The title the status page shows for the incident, in place of a plain sentence."""
    result = Result(i, timeline=[TimelineEntry(now, actor, PUBLIC_TITLE, text_to_str(raw(title)))])
    result.reply = Message.of(t("incident.public_title_set", id=i.id, title=title))
    return result
