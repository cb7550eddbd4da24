"""Severity policies: how fast each severity must be answered, taken in hand and
resolved, and how its communication runs. Snapshotted onto an incident when it opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playbooks.business_time import Deadline, WorkCalendar, WorkingHours
from playbooks.incidents.alerts import AlertSettings
from playbooks.incidents.heartbeats import Heartbeat

# How far from its opening an incident's snapshot keeps the holiday calendar: its clocks
# in working days, and those of a reopening within a year.
CALENDAR_SPAN = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class SeverityRule:
    respond: Deadline
    # Seed 002 promises three things: a response, the start of handling (开始处理) and
    # recovery. A clock left out (None) is not promised by the policy and not timed.
    resolve: Deadline | None
    start: Deadline | None = None
    # The communication plan: for P0/P1 the tech channel hears at once, the commander is
    # reminded to tell management and to publish a public notice, and status updates are
    # asked for until resolved. None switches a step off (P2/P3: internal tracking only).
    update_every: timedelta | None = None
    notify_management: timedelta | None = None
    public_notice: timedelta | None = None
    warn_at: float = 0.8  # share of the start and resolve times after which to warn


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    name: str
    rules: Mapping[str, SeverityRule]
    hours: WorkingHours = field(default_factory=WorkingHours)
    description: str = ""

    def rule(self, severity: str) -> SeverityRule:
        return self.rules[severity]

    def for_incident(self, opened: date) -> SeverityPolicy:
        """This policy with only the part of the holiday calendar an incident opened on
        ``opened`` can reach, to keep its snapshot small."""
        calendar = self.hours.calendar.between(opened - timedelta(days=1), opened + CALENDAR_SPAN)
        return replace(self, hours=replace(self.hours, calendar=calendar))

    def to_json(self) -> dict[str, Any]:
        def deadline(d: Deadline | None) -> dict[str, Any] | None:
            if d is None:
                return None
            return {
                "seconds": d.duration.total_seconds() if d.duration is not None else None,
                "working_days": d.working_days,
            }

        def seconds(value: timedelta | None) -> float | None:
            return value.total_seconds() if value is not None else None

        return {
            "name": self.name,
            "description": self.description,
            "hours": {
                "tz": str(self.hours.tz),
                "start": self.hours.start.isoformat(),
                "end": self.hours.end.isoformat(),
                "weekdays": sorted(self.hours.weekdays),
                "calendar": {
                    "country": self.hours.calendar.country,
                    "days_off": sorted(d.isoformat() for d in self.hours.calendar.days_off),
                    "days_on": sorted(d.isoformat() for d in self.hours.calendar.days_on),
                },
            },
            "rules": {
                severity: {
                    "respond": deadline(rule.respond),
                    "resolve": deadline(rule.resolve),
                    "start": deadline(rule.start),
                    "update_every": seconds(rule.update_every),
                    "notify_management": seconds(rule.notify_management),
                    "public_notice": seconds(rule.public_notice),
                    "warn_at": rule.warn_at,
                }
                for severity, rule in self.rules.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SeverityPolicy:
        def deadline(d: Mapping[str, Any] | None) -> Deadline | None:
            if d is None:
                return None
            if d.get("working_days") is not None:
                return Deadline(working_days=float(d["working_days"]))
            return Deadline(duration=timedelta(seconds=d["seconds"]))

        def span(value: float | None) -> timedelta | None:
            return timedelta(seconds=value) if value is not None else None

        hours = data["hours"]
        calendar = hours.get("calendar") or {}  # none in snapshots from before calendars
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            hours=WorkingHours(
                tz=ZoneInfo(hours["tz"]),
                start=time.fromisoformat(hours["start"]),
                end=time.fromisoformat(hours["end"]),
                weekdays=frozenset(hours["weekdays"]),
                calendar=WorkCalendar(
                    country=calendar.get("country", ""),
                    days_off=frozenset(map(date.fromisoformat, calendar.get("days_off", ()))),
                    days_on=frozenset(map(date.fromisoformat, calendar.get("days_on", ()))),
                ),
            ),
            rules={
                severity: SeverityRule(
                    respond=_required(deadline(rule["respond"])),
                    resolve=deadline(rule["resolve"]),
                    start=deadline(rule.get("start")),
                    update_every=span(rule["update_every"]),
                    notify_management=span(rule["notify_management"]),
                    public_notice=span(rule["public_notice"]),
                    warn_at=float(rule["warn_at"]),
                )
                for severity, rule in data["rules"].items()
            },
        )


def _required(value: Deadline | None) -> Deadline:
    assert value is not None, "every severity promises a response"
    return value


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """Which severities get a room of their own (none: every incident stays in the shared
    channel), and how long after closing the incident its room is archived."""

    severities: frozenset[str] = frozenset()
    close_after: timedelta = timedelta(hours=1)

    def wanted(self, severity: str) -> bool:
        return severity in self.severities


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """The severity policy in force, where P0/P1 news goes at once, and how alerts from
    monitoring become incidents."""

    policy: SeverityPolicy
    tech_channel: str | None = "#tech"
    policies: Mapping[str, SeverityPolicy] = field(default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    # Who receives each communication step's notice (seed 001 §5.3): "#channel",
    # "slack:C0123" or "@person", per step (management, public).
    audiences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What must call in on time (heartbeats.yaml), by name.
    heartbeats: Mapping[str, Heartbeat] = field(default_factory=dict)
    rooms: RoomSettings = field(default_factory=RoomSettings)


def default_settings() -> IncidentSettings:
    """Seed 001's promises, for code paths (and tests) that load no config."""
    minute = timedelta(minutes=1)

    def rule(respond: int, resolve: int, *, plan: bool = False) -> SeverityRule:
        return SeverityRule(
            respond=Deadline(respond * minute),
            resolve=Deadline(resolve * minute),
            update_every=30 * minute if plan else None,
            notify_management=15 * minute if plan else None,
            public_notice=60 * minute if plan else None,
        )

    rules = {
        "P0": rule(5, 60, plan=True),
        "P1": rule(15, 240, plan=True),
        "P2": rule(30, 480),
        "P3": rule(60, 1440),
    }
    policy = SeverityPolicy("launch-plan", rules)
    return IncidentSettings(policy=policy, policies={policy.name: policy})
