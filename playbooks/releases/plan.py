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

from playbooks.launch.plan import ChecklistItem, LaunchPlan, launch_problems
from playbooks.procedures.plan import Procedure, procedure_problems


class GuardAction(StrEnum):
    """What a sustained breach does. ``stop`` is seed 003's first tier (§8.2 应急情况1):
    pause at once and call the decision owners to the 15-minute core-team meeting;
    ``rollback`` its second (§9.1)."""

    ROLLBACK = "rollback"
    STOP = "stop"
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
    # The stage's own promotion targets (seed 003 §5.1): guard name → the value every
    # sample of the stage must stay below before the release may leave it.
    targets: tuple[tuple[str, float], ...] = ()


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
    percent: bool = False  # thresholds were written as percentages: show them so

    def show(self, value: float | None) -> str:
        """A reading or threshold as written in the plan: ``0.6%`` or ``0.006``."""
        if value is None:
            return "-"
        return f"{round(value * 100, 6):g}%" if self.percent else f"{value:g}"

    def breached_by(self, value: float) -> bool:
        return (self.max is not None and value > self.max) or (
            self.min is not None and value < self.min
        )

    @property
    def threshold(self) -> str:
        """``> 0.5%`` or ``< 0.99``: the bad side, as a person reads it."""
        parts = []
        if self.max is not None:
            parts.append(f"> {self.show(self.max)}")
        if self.min is not None:
            parts.append(f"< {self.show(self.min)}")
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
    # Who decides when a stop-tier guard pauses the release (seed 003 §8.2: 项目总监):
    # "owner", a role, or "@person".
    decision: tuple[str, ...] = ("owner",)
    # The manual rollback triggers a person may name with --reason (seed 003 §9.1).
    rollback_reasons: tuple[tuple[str, str], ...] = ()
    # The steps a rollback starts, under its clock (seed 001 §5.1, seed 004, seed 003 §9.2).
    rollback_runbook: Procedure | None = None

    def gate_of(self, item: ChecklistItem) -> int:
        """The stage a required checklist item must be ticked before: its ``before``, else
        the first stage (seed 003 §10.1: the pre-launch checks come before any traffic)."""
        if item.before is not None:
            found = self.stage_named(item.before)
            if found is not None:
                return found
        return 0

    @property
    def prepares(self) -> bool:
        """Whether a release of this plan waits, prepared, for required checks before its
        first traffic moves (``/release go``)."""
        return any(i.required and self.gate_of(i) == 0 for i in self.launch.checklist)

    def guard_named(self, name: str) -> Guard | None:
        return next((g for g in self.guards if g.name == name), None)

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
                    "targets": [list(pair) for pair in s.targets],
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
                    "percent": g.percent,
                }
                for g in self.guards
            ],
            "launch": self.launch.to_json(),
            "decision": list(self.decision),
            "rollback_reasons": [list(pair) for pair in self.rollback_reasons],
            "rollback_runbook": (
                self.rollback_runbook.to_json() if self.rollback_runbook is not None else None
            ),
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
                    targets=tuple((str(n), float(v)) for n, v in s.get("targets", [])),
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
                    percent=bool(g.get("percent", False)),
                )
                for g in data["guards"]
            ),
            launch=LaunchPlan.from_json(data.get("launch")),
            decision=tuple(data.get("decision", ("owner",))),
            rollback_reasons=tuple((str(k), str(v)) for k, v in data.get("rollback_reasons", [])),
            rollback_runbook=(
                Procedure.from_json(data["rollback_runbook"])
                if data.get("rollback_runbook")
                else None
            ),
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
    for index, stage in enumerate(plan.stages):
        for name, _ in stage.targets:
            if plan.guard_named(name) is None:
                problems.append(
                    (
                        f"stages[{index}].targets.{name}",
                        f"there is no guard {name!r}; a target limits one of the plan's guards",
                    )
                )
    problems += launch_problems(plan.launch, stages=tuple(s.name for s in plan.stages))
    if plan.rollback_runbook is not None:
        problems += [
            (f"rollback_runbook.{where}", problem)
            for where, problem in procedure_problems(plan.rollback_runbook)
        ]
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


SIMULATED = "simulated"  # the metric source whose numbers are set by hand, not measured


def made_up(source: str, *, drill: bool) -> bool:
    """Numbers from the simulated source are made up; outside a drill, where they are the
    point of the rehearsal, whatever shows them says so."""
    return source == SIMULATED and not drill


@dataclass(frozen=True, slots=True)
class ReleaseCatalog:
    services: Mapping[str, Service] = field(default_factory=dict)
    plans: Mapping[str, Plan] = field(default_factory=dict)
    # The emergency playbooks (seed 003 §8.2), by name: /playbook run NAME.
    playbooks: Mapping[str, Procedure] = field(default_factory=dict)
