"""Release plans and services: the stages a release walks and the guards that watch it.

A plan is snapshotted into a release when it starts (``to_json``/``from_json``), so
editing a plan file never changes a release in flight.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from playbooks.launch_plan import LaunchPlan, launch_problems


class GuardAction(StrEnum):
    ROLLBACK = "rollback"
    PAUSE = "pause"
    WARN = "warn"


class Evidence(StrEnum):
    """What promotion asks of a guard: ``ok`` at every sample of the soak, or over its
    last ``for`` window only."""

    SOAK = "soak"
    WINDOW = "window"


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    percent: float
    soak: timedelta | None = None  # None: the stage waits for a person
    approvals: int = 0  # release managers who must approve before the release enters it


@dataclass(frozen=True, slots=True)
class Guard:
    """One metric that must stay on the right side of a threshold.

    ``window`` is the guard's ``for``: how long a breach must last before it acts.
    """

    name: str
    query: str
    window: timedelta
    action: GuardAction
    max: float | None = None
    min: float | None = None
    interval: timedelta = timedelta(seconds=30)
    max_unknown: timedelta = timedelta(minutes=5)

    def breached_by(self, value: float) -> bool:
        return (self.max is not None and value > self.max) or (
            self.min is not None and value < self.min
        )

    @property
    def threshold(self) -> str:
        """``> 0.005`` or ``< 0.99``: the bad side, as a person reads it."""
        parts = []
        if self.max is not None:
            parts.append(f"> {self.max:g}")
        if self.min is not None:
            parts.append(f"< {self.min:g}")
        return " or ".join(parts)


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    stages: tuple[Stage, ...]
    guards: tuple[Guard, ...] = ()
    auto_promote: bool = False
    evidence: Evidence = Evidence.SOAK
    description: str = ""
    launch: LaunchPlan = field(default_factory=LaunchPlan)

    def stage_named(self, name: str) -> int | None:
        for index, stage in enumerate(self.stages):
            if stage.name.lower() == name.lower():
                return index
        return None

    def stage_at_percent(self, percent: float) -> int | None:
        for index, stage in enumerate(self.stages):
            if math.isclose(stage.percent, percent):
                return index
        return None

    @property
    def tick(self) -> timedelta:
        """How often the release's guards are looked at: the shortest guard interval."""
        return min((g.interval for g in self.guards), default=timedelta(seconds=30))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "auto_promote": self.auto_promote,
            "evidence": self.evidence.value,
            "stages": [
                {
                    "name": s.name,
                    "percent": s.percent,
                    "soak": s.soak.total_seconds() if s.soak is not None else None,
                    "approvals": s.approvals,
                }
                for s in self.stages
            ],
            "guards": [
                {
                    "name": g.name,
                    "query": g.query,
                    "window": g.window.total_seconds(),
                    "action": g.action.value,
                    "max": g.max,
                    "min": g.min,
                    "interval": g.interval.total_seconds(),
                    "max_unknown": g.max_unknown.total_seconds(),
                }
                for g in self.guards
            ],
            "launch": self.launch.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            auto_promote=bool(data.get("auto_promote", False)),
            evidence=Evidence(data.get("evidence", Evidence.SOAK.value)),
            stages=tuple(
                Stage(
                    name=s["name"],
                    percent=float(s["percent"]),
                    soak=timedelta(seconds=s["soak"]) if s["soak"] is not None else None,
                    approvals=int(s.get("approvals", 0)),
                )
                for s in data["stages"]
            ),
            guards=tuple(
                Guard(
                    name=g["name"],
                    query=g["query"],
                    window=timedelta(seconds=g["window"]),
                    action=GuardAction(g["action"]),
                    max=g["max"],
                    min=g["min"],
                    interval=timedelta(seconds=g["interval"]),
                    max_unknown=timedelta(seconds=g["max_unknown"]),
                )
                for g in data["guards"]
            ),
            launch=LaunchPlan.from_json(data.get("launch")),
        )


def plan_problems(plan: Plan) -> list[tuple[str, str]]:
    """What is wrong with a plan, as (field, sentence) pairs; empty when it is sound."""
    problems: list[tuple[str, str]] = []
    if not plan.stages:
        problems.append(("stages", "a plan needs at least one stage"))
    previous = 0.0
    for index, stage in enumerate(plan.stages):
        where = f"stages[{index}].percent"
        if not 0 < stage.percent <= 100:
            problems.append((where, f"{stage.percent:g}% is not between 0% (excluded) and 100%"))
        elif stage.percent <= previous:
            problems.append(
                (
                    where,
                    f"{stage.percent:g}% does not follow {previous:g}%: "
                    "percentages must be strictly increasing",
                )
            )
        previous = max(previous, stage.percent)
    if plan.stages and not math.isclose(plan.stages[-1].percent, 100):
        last = f"stages[{len(plan.stages) - 1}].percent"
        problems.append((last, "the last stage must send 100% of traffic"))
    names = [s.name.lower() for s in plan.stages]
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append((f"stages[{index}].name", f"stage {name!r} is named twice"))
    guard_names = [g.name for g in plan.guards]
    for index, guard in enumerate(plan.guards):
        if guard.name in guard_names[:index]:
            problems.append((f"guards[{index}].name", f"guard {guard.name!r} is named twice"))
        if guard.max is None and guard.min is None:
            problems.append((f"guards[{index}]", "a guard needs max or min"))
        if guard.window <= timedelta(0):
            problems.append((f"guards[{index}].for", "a guard needs a window longer than zero"))
        if guard.interval <= timedelta(0):
            problems.append((f"guards[{index}].interval", "the interval must be longer than zero"))
    problems += launch_problems(plan.launch, stages=tuple(s.name for s in plan.stages))
    return problems


class TrafficKind(StrEnum):
    SIMULATED = "simulated"
    MANUAL = "manual"
    WEBHOOK = "webhook"
    UNLEASH = "unleash"


@dataclass(frozen=True, slots=True)
class Service:
    """A thing that gets released: its plan, where its news goes, how traffic moves.

    Backend and metric-source settings (URLs, secrets) stay in ``bot``; the domain
    only needs to know whether a person must apply traffic changes by hand.
    """

    name: str
    plan: str
    release_channel: str
    traffic: TrafficKind = TrafficKind.SIMULATED
    metrics: str = "simulated"
    team: str | None = None
    incident_channel: str | None = None
    tier: str | None = None  # its availability SLA tier (summaries.yaml sla.tiers)


@dataclass(frozen=True, slots=True)
class ReleaseCatalog:
    services: Mapping[str, Service] = field(default_factory=dict)
    plans: Mapping[str, Plan] = field(default_factory=dict)
