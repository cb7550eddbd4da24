"""Procedures a team follows step by step under a clock: a plan's rollback runbook and the
emergency playbooks. What each says (steps, owners, due times, who decides, who hears)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from playbooks.messages import Text, raw, t


@dataclass(frozen=True, slots=True)
class ProcedureStep:
    due: timedelta  # after the procedure starts
    text: str
    owner: str  # "owner", a role, a duty (devops, dba…), or "@handle"


@dataclass(frozen=True, slots=True)
class Procedure:
    """``clock``: the time the procedure promises (seed 001: back within 10 minutes;
    seed 003 §8.2: a recovery target); steps due within it are the ones it covers."""

    name: str
    title: str
    steps: tuple[ProcedureStep, ...]
    clock: timedelta | None = None
    trigger: str = ""
    decision: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    updates: timedelta | None = None  # remind whoever runs it to report this often

    def within_clock(self, number: int) -> bool:
        return self.clock is not None and self.steps[number - 1].due <= self.clock

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "steps": [
                {"due": s.due.total_seconds(), "text": s.text, "owner": s.owner} for s in self.steps
            ],
            "clock": self.clock.total_seconds() if self.clock is not None else None,
            "trigger": self.trigger,
            "decision": list(self.decision),
            "notify": list(self.notify),
            "updates": self.updates.total_seconds() if self.updates is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Procedure:
        clock, updates = data.get("clock"), data.get("updates")
        return cls(
            name=data["name"],
            title=data["title"],
            steps=tuple(
                ProcedureStep(timedelta(seconds=s["due"]), s["text"], s["owner"])
                for s in data["steps"]
            ),
            clock=timedelta(seconds=clock) if clock is not None else None,
            trigger=data.get("trigger", ""),
            decision=tuple(data.get("decision", ())),
            notify=tuple(data.get("notify", ())),
            updates=timedelta(seconds=updates) if updates is not None else None,
        )


def procedure_problems(p: Procedure) -> list[tuple[str, str]]:
    """What is wrong with a procedure, as (field, sentence) pairs."""
    problems: list[tuple[str, str]] = []
    if not p.steps:
        problems.append(("steps", "a procedure needs at least one step"))
    for index, step in enumerate(p.steps):
        if step.due < timedelta(0):
            problems.append((f"steps[{index}].due", "a step is due after the procedure starts"))
        if index and step.due < p.steps[index - 1].due:
            problems.append((f"steps[{index}].due", "steps are listed in the order they fall due"))
    if p.clock is not None and p.steps and p.steps[0].due > p.clock:
        problems.append(("clock", "no step is due within the clock; shorten a due or lengthen it"))
    return problems


def owner_word(word: str) -> Text:
    """Who a step names, as a reader says it: the word ``owner`` (the release's owner) in
    the reader's language; a role, a duty or a handle as configured."""
    return t("step.owner.release_owner") if word == "owner" else raw(word)
