"""Teams: their rotations, escalation policy, channel, manager, and which incidents page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from enum import StrEnum

from playbooks.business_time import WorkCalendar
from playbooks.incidents.policy import SeverityPolicy, SeverityRule
from playbooks.oncall.budget import Budget
from playbooks.oncall.paging import DEFAULT_ACK_REMINDER, Policy, Step, Target
from playbooks.oncall.rotations import Rotation

SEVERITIES = ("P0", "P1", "P2", "P3")


class PageWhen(StrEnum):
    POLICY = "policy"  # as the severity policy promises: around the clock or working time
    ALWAYS = "always"
    WORKING_HOURS = "working_hours"
    NEVER = "never"


# The severity policy in force decides by default: a response promised in minutes or
# hours is promised around the clock, one in working days waits for working hours.
DEFAULT_PAGE_ON: Mapping[str, PageWhen] = {level: PageWhen.POLICY for level in SEVERITIES}


def page_when(team: Team, severity: str, rule: SeverityRule) -> PageWhen:
    """When an incident of ``severity`` pages ``team``, with its policy's ``rule``."""
    when = team.page_on.get(severity, PageWhen.POLICY)
    if when is not PageWhen.POLICY:
        return when
    return PageWhen.WORKING_HOURS if rule.respond.working_days is not None else PageWhen.ALWAYS


def sla_warnings(teams: Mapping[str, Team], policy: SeverityPolicy) -> list[str]:
    """Where a team's paging cannot meet the response the policy in force promises."""
    warnings = []
    for team in teams.values():
        for severity in SEVERITIES:
            rule = policy.rule(severity)
            when = page_when(team, severity, rule)
            in_working_time = rule.respond.working_days is not None
            if when is PageWhen.ALWAYS or (in_working_time and when is PageWhen.WORKING_HOURS):
                continue
            promise = "in working time" if in_working_time else "around the clock"
            warnings.append(
                f"team {team.name} pages {severity} incidents "
                + ("never" if when is PageWhen.NEVER else "only in working hours")
                + f", but the severity policy {policy.name} promises {severity} a response "
                f"within {rule.respond.describe()} {promise}; set page_incidents."
                f"{severity} to policy"
            )
    return warnings


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
    # the working days of the team's country, with the config's own holidays and working days
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
