"""A release's launch record: checklist ticks, the Go/No-Go assessment, runbook marks,
and the gates they put before promotion. Pure: ``now`` is a parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from playbooks.errors import NotFound
from playbooks.launch.gonogo import Assessment, Verdict
from playbooks.launch.plan import ChecklistItem
from playbooks.messages import Text, raw, t
from playbooks.releases.machine import Refused, Release


@dataclass(frozen=True, slots=True)
class Mark:
    """A tick on a checklist item, or a runbook step marked done or skipped."""

    by: str
    at: datetime
    note: str = ""
    state: str = "done"  # done | skipped (runbook steps)

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at.isoformat(), "note": self.note, "state": self.state}

    def shown(self) -> Text:
        """A marked runbook step's state as its listing shows it."""
        note = raw(f" — {self.note}") if self.note else raw("")
        return t(f"runbook.{self.state}", actor=self.by, at=self.at, note=note)

    def refusal(self, number: int) -> Text:
        """Why step ``number``, marked so already, cannot be marked again."""
        state = t(f"runbook.state.{self.state}")
        return t("runbook.already", number=number, state=state, actor=self.by)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Mark:
        return cls(data["by"], datetime.fromisoformat(data["at"]), data["note"], data["state"])


@dataclass(frozen=True, slots=True)
class LaunchState:
    checks: Mapping[int, Mark] = field(default_factory=dict)  # item number (1-based) → tick
    steps: Mapping[int, Mark] = field(default_factory=dict)  # step number (1-based) → mark
    assessment: Assessment | None = None


class Unknown(NotFound):
    """A checklist item or runbook step that does not exist."""


def item(r: Release, number: int) -> ChecklistItem:
    items = r.plan.launch.checklist
    if not items:
        raise Unknown(t("checklist.none", service=r.service, plan=r.plan.name))
    if not 1 <= number <= len(items):
        raise Unknown(t("checklist.no_such_item", number=number, count=len(items)))
    return items[number - 1]


def gate_stage(r: Release, entry: ChecklistItem) -> int:
    """The stage a required item must be ticked before; the first stage by default."""
    return r.plan.gate_of(entry)


def check(
    state: LaunchState, r: Release, *, number: int, by: str, at: datetime, note: str
) -> LaunchState:
    item(r, number)
    if number in state.checks:
        done = state.checks[number]
        raise Refused(t("checklist.already_ticked", number=number, actor=done.by, at=done.at))
    return replace(state, checks={**state.checks, number: Mark(by, at, note)})


def uncheck(state: LaunchState, r: Release, *, number: int) -> LaunchState:
    item(r, number)
    if number not in state.checks:
        raise Refused(t("checklist.not_ticked", number=number))
    return replace(state, checks={k: v for k, v in state.checks.items() if k != number})


def open_items(state: LaunchState, r: Release) -> list[tuple[int, ChecklistItem]]:
    return [
        (number, entry)
        for number, entry in enumerate(r.plan.launch.checklist, start=1)
        if number not in state.checks
    ]


def blockers(state: LaunchState, r: Release, *, target: int) -> list[Text]:
    """Required checklist items still open for the stages up to ``target``, and a missing
    or failing Go/No-Go before the final stage when the plan requires one."""
    found: list[Text] = []
    for number, entry in open_items(state, r):
        if entry.required and gate_stage(r, entry) <= target:
            stage = r.plan.stages[gate_stage(r, entry)].name
            found.append(
                t(
                    "checklist.blocker",
                    number=number,
                    text=raw(entry.text),
                    stage=stage,
                    service=r.service,
                )
            )
    return found + _gonogo_blockers(state, r, target=target)


def go_blockers(state: LaunchState, r: Release) -> list[Text]:
    """What holds a prepared release's first traffic: one sentence naming every required
    check still open before the first stage, and a Go/No-Go a one-stage plan still needs."""
    found: list[Text] = []
    still_open = [
        (number, entry)
        for number, entry in open_items(state, r)
        if entry.required and gate_stage(r, entry) == 0
    ]
    if still_open:
        first = r.plan.stages[0]
        found.append(
            t(
                "checklist.go_refused",
                service=r.service,
                stage=first.name,
                percent=first.percent,
                count=len(still_open),
                items=raw("; ".join(f"{n}. {entry.text}" for n, entry in still_open)),
            )
        )
    return found + _gonogo_blockers(state, r, target=0)


def _gonogo_blockers(state: LaunchState, r: Release, *, target: int) -> list[Text]:
    found: list[Text] = []
    final = len(r.plan.stages) - 1
    if r.plan.launch.gonogo.required and target >= final and r.stage < final:
        a = state.assessment
        if a is None:
            found.append(t("gonogo.blocker.none", service=r.service))
        elif a.verdict is Verdict.NO_GO:
            found.append(t("gonogo.blocker.no_go", score=a.score, by=a.by, at=a.at))
        elif not a.passes and r.plan.launch.gonogo.approve_review:
            found.append(t("gonogo.blocker.review", score=a.score, service=r.service))
        elif not a.passes:
            found.append(t("gonogo.blocker.review_fix", score=a.score, service=r.service))
    return found


def state_to_json(state: LaunchState) -> dict[str, Any]:
    return {
        "checks": {str(k): v.to_json() for k, v in state.checks.items()},
        "steps": {str(k): v.to_json() for k, v in state.steps.items()},
        "assessment": state.assessment.to_json() if state.assessment else None,
    }


def state_from_json(data: Mapping[str, Any] | None) -> LaunchState:
    if not data:
        return LaunchState()
    return LaunchState(
        checks={int(k): Mark.from_json(v) for k, v in data.get("checks", {}).items()},
        steps={int(k): Mark.from_json(v) for k, v in data.get("steps", {}).items()},
        assessment=Assessment.from_json(data["assessment"]) if data.get("assessment") else None,
    )
