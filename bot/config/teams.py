"""``teams.yaml``: teams, their rotations and escalation policies."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.config.releases import Duration, EnvName, _duration
from bot.config.zone import Zone
from bot.work_calendar import CalendarDays, Country, work_calendar
from playbooks.oncall.budget import DEFAULT_COUNT, DEFAULT_WINDOW, Budget
from playbooks.oncall.paging import (
    DEFAULT_ACK_REMINDER,
    DEFAULT_WAIT,
    Policy,
    Step,
    StepWhen,
    Target,
)
from playbooks.oncall.rotations import LAYERS, Rotation
from playbooks.oncall.teams import DEFAULT_PAGE_ON, PageWhen, Team
from playbooks.people import EVERY_WAY, WAYS

_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _local_time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time; write it like 2026-11-23T09:00 (in the team's timezone)"
        ) from None
    if parsed.tzinfo is not None:
        raise ValueError(f"{value!r} names an offset; give the local time, the timezone is set")
    return parsed


LocalTime = Annotated[datetime, BeforeValidator(_local_time)]


def _reminder(value: Any) -> timedelta | None:
    if isinstance(value, str) and value.strip().lower() == "never":
        return None
    return _duration(value)


Reminder = Annotated[timedelta | None, BeforeValidator(_reminder)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerEntry(_Strict):
    participants: list[str] = Field(min_length=1)
    start: LocalTime
    length: Duration


def _via(value: Any) -> tuple[str, ...]:
    """``via: [slack, sms]`` (these ways, in order, the next when one fails) or ``via:
    every`` (every way the person has, at once)."""
    if value == EVERY_WAY:
        return (EVERY_WAY,)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(
            "via lists the ways to reach them, like [slack, sms], or says every; "
            "leave it out to reach them the usual way"
        )
    ways = [str(way) for way in value]
    if EVERY_WAY in ways:
        raise ValueError("via: every means every way they have; write it alone, not in a list")
    unknown = [way for way in ways if way not in WAYS]
    if unknown:
        raise ValueError(
            f"via names {unknown[0]!r}, which is not a way to reach someone; "
            f"use {', '.join(WAYS)} (or every)"
        )
    if len(set(ways)) != len(ways):
        raise ValueError("via names a way twice; name each once, in the order to try them")
    return tuple(ways)


Via = Annotated[tuple[str, ...], BeforeValidator(_via)]


class StepEntry(_Strict):
    notify: str
    wait: Duration | None = None
    when: StepWhen = StepWhen.ALWAYS
    via: Via = ()

    @model_validator(mode="after")
    def _target(self) -> StepEntry:
        if self.notify in (*LAYERS, "manager"):
            return self
        if self.notify.startswith("@") and _HANDLE.match(self.notify[1:]):
            return self
        raise ValueError(
            f"notify {self.notify!r} is not a target; use primary, secondary, manager or @person"
        )

    def to_step(self) -> Step:
        wait = self.wait if self.wait is not None else DEFAULT_WAIT
        if self.notify == "manager":
            return Step(Target.MANAGER, "", wait, self.when, self.via)
        if self.notify.startswith("@"):
            return Step(Target.PERSON, self.notify[1:], wait, self.when, self.via)
        return Step(Target.LAYER, self.notify, wait, self.when, self.via)


class BudgetEntry(_Strict):
    count: int = Field(default=DEFAULT_COUNT, ge=1, le=1000)
    window: Duration = DEFAULT_WINDOW


class EscalationEntry(_Strict):
    steps: list[StepEntry] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)


class TeamEntry(_Strict, CalendarDays):
    """``country`` (default: severity.yaml's working_hours.country) names the official
    calendar of the team's working days; ``holidays`` and ``working_days`` adjust it for
    the team, after those severity.yaml lists for everyone."""

    country: Country | None = None
    timezone: Zone = "UTC"
    channel: str | None = None
    manager: str | None = None
    layers: dict[Literal["primary", "secondary"], LayerEntry]
    escalation: EscalationEntry
    page_incidents: dict[Literal["P0", "P1", "P2", "P3"], PageWhen] = Field(default_factory=dict)
    ical_token_env: EnvName = None
    defer_outside_working_hours: list[Literal["P0", "P1", "P2", "P3"]] = ["P3"]
    ack_reminder: Reminder = DEFAULT_ACK_REMINDER
    page_budget: BudgetEntry = BudgetEntry()

    def to_team(self, name: str, *, country: str, everyone: CalendarDays) -> Team:
        """``country`` and ``everyone``: the deployment's calendar and its own days."""
        tz = ZoneInfo(self.timezone)
        return Team(
            name=name,
            tz=tz,
            rotations={
                layer: Rotation(
                    participants=tuple(entry.participants),
                    start=entry.start.replace(tzinfo=tz),
                    length=entry.length,
                    tz=tz,
                )
                for layer, entry in self.layers.items()
            },
            policy=Policy(
                tuple(s.to_step() for s in self.escalation.steps), repeat=self.escalation.repeat
            ),
            channel=self.channel,
            manager=self.manager,
            page_on={**DEFAULT_PAGE_ON, **{str(k): v for k, v in self.page_incidents.items()}},
            ical_token_env=self.ical_token_env,
            defer_outside_hours=frozenset(self.defer_outside_working_hours),
            ack_reminder=self.ack_reminder,
            page_budget=Budget(self.page_budget.count, self.page_budget.window),
            calendar=work_calendar(self.country or country, everyone, self),
        )


class TeamsFile(_Strict):
    teams: dict[str, TeamEntry] = Field(default_factory=dict)


def people_named(entry: TeamEntry) -> list[tuple[tuple[Any, ...], str]]:
    """Every handle the team names, with where: checked against people.yaml."""
    named: list[tuple[tuple[Any, ...], str]] = []
    for layer, spec in entry.layers.items():
        named += [
            (("layers", layer, "participants", i), h) for i, h in enumerate(spec.participants)
        ]
    if entry.manager:
        named.append((("manager",), entry.manager))
    for i, step in enumerate(entry.escalation.steps):
        if step.notify.startswith("@"):
            named.append((("escalation", "steps", i, "notify"), step.notify[1:]))
    return named
