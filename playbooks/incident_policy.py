"""Severity policies: how fast each severity must be answered and resolved, and how
its communication runs. Snapshotted onto an incident when it opens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playbooks.alerts import AlertSettings
from playbooks.business_time import Deadline, WorkingHours


@dataclass(frozen=True, slots=True)
class SeverityRule:
    respond: Deadline
    resolve: Deadline
    # The communication plan: for P0/P1 the tech channel hears at once, the commander is
    # reminded to tell management and to publish a public notice, and status updates are
    # asked for until resolved. None switches a step off (P2/P3: internal tracking only).
    update_every: timedelta | None = None
    notify_management: timedelta | None = None
    public_notice: timedelta | None = None
    warn_at: float = 0.8  # share of the resolve time after which a warning is posted


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    name: str
    rules: Mapping[str, SeverityRule]
    hours: WorkingHours = field(default_factory=WorkingHours)
    description: str = ""

    def rule(self, severity: str) -> SeverityRule:
        return self.rules[severity]

    def to_json(self) -> dict[str, Any]:
        def deadline(d: Deadline) -> dict[str, Any]:
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
            },
            "rules": {
                severity: {
                    "respond": deadline(rule.respond),
                    "resolve": deadline(rule.resolve),
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
        def deadline(d: Mapping[str, Any]) -> Deadline:
            if d.get("working_days") is not None:
                return Deadline(working_days=float(d["working_days"]))
            return Deadline(duration=timedelta(seconds=d["seconds"]))

        def span(value: float | None) -> timedelta | None:
            return timedelta(seconds=value) if value is not None else None

        hours = data["hours"]
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            hours=WorkingHours(
                tz=ZoneInfo(hours["tz"]),
                start=time.fromisoformat(hours["start"]),
                end=time.fromisoformat(hours["end"]),
                weekdays=frozenset(hours["weekdays"]),
            ),
            rules={
                severity: SeverityRule(
                    respond=deadline(rule["respond"]),
                    resolve=deadline(rule["resolve"]),
                    update_every=span(rule["update_every"]),
                    notify_management=span(rule["notify_management"]),
                    public_notice=span(rule["public_notice"]),
                    warn_at=float(rule["warn_at"]),
                )
                for severity, rule in data["rules"].items()
            },
        )


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    """The severity policy in force, where P0/P1 news goes at once, and how alerts from
    monitoring become incidents."""

    policy: SeverityPolicy
    tech_channel: str | None = "#tech"
    policies: Mapping[str, SeverityPolicy] = field(default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)


def default_settings() -> IncidentSettings:
    """Seed 001's promises, for code paths (and tests) that load no config."""
    minute = timedelta(minutes=1)
    rules = {
        "P0": SeverityRule(
            Deadline(5 * minute), Deadline(60 * minute), 30 * minute, 15 * minute, 60 * minute
        ),
        "P1": SeverityRule(
            Deadline(15 * minute), Deadline(240 * minute), 30 * minute, 15 * minute, 60 * minute
        ),
        "P2": SeverityRule(Deadline(30 * minute), Deadline(480 * minute)),
        "P3": SeverityRule(Deadline(60 * minute), Deadline(1440 * minute)),
    }
    policy = SeverityPolicy("launch-plan", rules)
    return IncidentSettings(policy=policy, policies={policy.name: policy})
