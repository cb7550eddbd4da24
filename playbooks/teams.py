"""Teams: their rotations, escalation policy, channel, manager, and which incidents page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from enum import StrEnum

from playbooks.oncall import Rotation
from playbooks.page_budget import Budget
from playbooks.paging import DEFAULT_ACK_REMINDER, Policy, Step, Target


class PageWhen(StrEnum):
    ALWAYS = "always"
    WORKING_HOURS = "working_hours"
    NEVER = "never"


DEFAULT_PAGE_ON: Mapping[str, PageWhen] = {
    "P0": PageWhen.ALWAYS,
    "P1": PageWhen.ALWAYS,
    "P2": PageWhen.WORKING_HOURS,
    "P3": PageWhen.NEVER,
}


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    tz: tzinfo
    rotations: Mapping[str, Rotation]  # layer → rotation
    policy: Policy = field(default_factory=lambda: Policy((Step(Target.LAYER, "primary"),)))
    channel: str | None = None
    manager: str | None = None
    page_on: Mapping[str, PageWhen] = field(default_factory=lambda: dict(DEFAULT_PAGE_ON))
    ical_token_env: str | None = None  # the variable holding the calendar feed's token
    # severities whose pages wait for the next working morning when raised outside hours
    defer_outside_hours: frozenset[str] = frozenset({"P3"})
    ack_reminder: timedelta | None = DEFAULT_ACK_REMINDER  # None: never
    page_budget: Budget = field(default_factory=Budget)  # per person, over all pages
