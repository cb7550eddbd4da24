"""``severity.yaml``: the severity policies on offer and the one in force."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.config.releases import Duration
from bot.config.releases import _duration as read_duration
from bot.config.zone import Zone
from bot.work_calendar import DEFAULT_COUNTRY, CalendarDays, Country, work_calendar
from playbooks.business_time import Deadline, WorkingHours
from playbooks.incidents.policy import IncidentSettings, RoomSettings, SeverityPolicy, SeverityRule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WORKING_DAYS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+working\s+days?\s*$", re.IGNORECASE)


def _deadline(value: Any) -> Deadline:
    if isinstance(value, Deadline):
        return value
    match = _WORKING_DAYS.match(str(value))
    if match:
        days = float(match.group(1))
        if days <= 0:
            raise ValueError(f"{value!r} is no time at all; give more than zero working days")
        return Deadline(working_days=days)
    try:
        return Deadline(duration=read_duration(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a deadline; write a duration like 15m, 4h or 2d, "
            "or working time like 1 working day"
        ) from None


def _clock(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day; write it like 09:00") from None


DeadlineField = Annotated[Deadline, BeforeValidator(_deadline)]
Clock = Annotated[time, BeforeValidator(_clock)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class RuleEntry(_Strict):
    respond: DeadlineField
    # Start handling (seed 002's 开始处理) and resolve are each optional: a policy
    # promises the clocks its plan names.
    start: DeadlineField | None = None
    resolve: DeadlineField | None = None
    update_every: Duration | None = None
    notify_management: Duration | None = None
    public_notice: Duration | None = None
    warn_at: float = Field(default=0.8, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> RuleEntry:
        # Only plain durations compare; working days depend on when the clock starts.
        clocks = [d for d in (self.respond, self.start, self.resolve) if d is not None]
        spans = [d.duration for d in clocks if d.duration is not None]
        if len(spans) == len(clocks) and spans != sorted(spans):
            raise ValueError("the clocks must run in order: respond, then start, then resolve")
        return self


class PolicyEntry(_Strict):
    description: str = ""
    P0: RuleEntry
    P1: RuleEntry
    P2: RuleEntry
    P3: RuleEntry


class HoursEntry(_Strict, CalendarDays):
    """Working hours, on the working days of ``country``'s official calendar with the
    ``holidays`` and ``working_days`` added here (for every team)."""

    country: Country = DEFAULT_COUNTRY
    timezone: Zone = "Asia/Shanghai"
    start: Clock = time(9, 0)
    end: Clock = time(18, 0)
    weekdays: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]))

    @model_validator(mode="after")
    def _sane(self) -> HoursEntry:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")
        unknown = [day for day in self.weekdays if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a weekday; use {', '.join(WEEKDAYS)}")
        if not self.weekdays:
            raise ValueError("name at least one working weekday")
        return self


class AudiencesEntry(_Strict):
    """Who receives the communication plan's notices: channels or @people."""

    management: list[str] = Field(default_factory=list)
    public: list[str] = Field(default_factory=list)

    def without_people(self) -> AudiencesEntry:
        return AudiencesEntry(
            management=[e for e in self.management if not e.startswith("@")],
            public=[e for e in self.public if not e.startswith("@")],
        )


class RoomsEntry(_Strict):
    """A room per incident: the severities that get one (none: off) and the grace between
    closing the incident and archiving its room."""

    severities: list[str] = Field(default_factory=list)
    close_after: Duration = timedelta(hours=1)

    @model_validator(mode="after")
    def _levels(self) -> RoomsEntry:
        unknown = [s for s in self.severities if s not in ("P0", "P1", "P2", "P3")]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a severity; use P0, P1, P2 or P3")
        return self


class SeverityFile(_Strict):
    policy: str
    tech_channel: str | None = "#tech"
    audiences: AudiencesEntry = AudiencesEntry()
    working_hours: HoursEntry = HoursEntry()
    rooms: RoomsEntry = RoomsEntry()
    policies: dict[str, PolicyEntry]

    @model_validator(mode="after")
    def _known(self) -> SeverityFile:
        if self.policy not in self.policies:
            known = ", ".join(sorted(self.policies))
            raise ValueError(f"policy {self.policy!r} is not defined under policies ({known})")
        return self

    def to_settings(self) -> IncidentSettings:
        hours = WorkingHours(
            tz=ZoneInfo(self.working_hours.timezone),
            start=self.working_hours.start,
            end=self.working_hours.end,
            weekdays=frozenset(WEEKDAYS.index(d) for d in self.working_hours.weekdays),
            calendar=work_calendar(self.working_hours.country, self.working_hours),
        )
        policies = {
            name: SeverityPolicy(
                name=name,
                description=entry.description,
                hours=hours,
                rules={level: _rule(getattr(entry, level)) for level in ("P0", "P1", "P2", "P3")},
            )
            for name, entry in self.policies.items()
        }
        return IncidentSettings(
            policy=policies[self.policy],
            tech_channel=self.tech_channel,
            policies=policies,
            audiences={
                "management": tuple(self.audiences.management),
                "public": tuple(self.audiences.public),
            },
            rooms=RoomSettings(
                severities=frozenset(self.rooms.severities), close_after=self.rooms.close_after
            ),
        )


def _rule(entry: RuleEntry) -> SeverityRule:
    return SeverityRule(
        respond=entry.respond,
        resolve=entry.resolve,
        start=entry.start,
        update_every=entry.update_every,
        notify_management=entry.notify_management,
        public_notice=entry.public_notice,
        warn_at=entry.warn_at,
    )
