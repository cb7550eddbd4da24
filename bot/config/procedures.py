"""Procedures in config: a plan's ``rollback_runbook`` and the emergency playbooks of
``playbooks.yaml`` (seed 003 §8.2), validated with file, line and field."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from bot.config.launch import Every, Offset
from playbooks.procedures.plan import Procedure, ProcedureStep

OWNER = r"^(owner|@?[a-z0-9][a-z0-9._-]{0,63})$"
PLAYBOOK_NAME = r"^[a-z][a-z0-9-]{0,40}$"
# A named duty of the plans (seed 001: DevOps, DBA, QA, PM), given in roles.yaml.
DUTY = r"^[a-z][a-z0-9-]{0,30}$"
# Where a playbook's start is also posted: a conversation (``#ops``, ``slack:C0123``), or
# who hears it directly: ``owner`` (who started it), a role, a duty or ``@person``.
NOTIFY = r"^(#[\w.-]{1,80}|[a-z]+:[\w#.-]{1,80}|owner|@?[a-z0-9][a-z0-9._-]{0,63})$"
# NOTIFY as pydantic checks it: the same without the bounds on a run of \w (a bounded run of
# Unicode word characters took pydantic's regex engine ~50 ms to compile, at every start),
# which _notify checks instead; a word failing either is said as failing NOTIFY.
_NOTIFY_SHAPE = r"^(#[\w.-]+|[a-z]+:[\w#.-]+|owner|@?[a-z0-9][a-z0-9._-]{0,63})$"
_NOTIFY_RUN = 80


def _notify(value: object, handler: ValidatorFunctionWrapHandler) -> str:
    try:
        word = str(handler(value))
    except ValidationError as error:
        if error.errors()[0]["type"] != "string_pattern_mismatch":
            raise
        word = ""
    # The run after "#" or after "platform:" (neither the run nor the platform holds a ":").
    run = word[1:] if word.startswith("#") else word.partition(":")[2]
    if not word or len(run) > _NOTIFY_RUN:
        raise PydanticCustomError(
            "string_pattern_mismatch",
            "String should match pattern '{pattern}'",
            {"pattern": NOTIFY},
        )
    return word


Notify = Annotated[str, Field(pattern=_NOTIFY_SHAPE), WrapValidator(_notify)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ProcedureStepEntry(_Strict):
    due: Offset
    step: str = Field(min_length=1, max_length=300)
    owner: str = Field(default="owner", pattern=OWNER)


class RollbackRunbookEntry(_Strict):
    """``clock``: the time to be back (seed 001 §5.1: < 10 minutes)."""

    clock: Every = timedelta(minutes=10)
    steps: list[ProcedureStepEntry] = Field(min_length=1)

    def to_procedure(self, title: str) -> Procedure:
        return Procedure(
            name="rollback",
            title=title,
            steps=tuple(ProcedureStep(s.due, s.step, s.owner) for s in self.steps),
            clock=self.clock,
        )


class PlaybookEntry(_Strict):
    title: str = Field(min_length=1, max_length=200)
    trigger: str = Field(min_length=1, max_length=300)
    decision: list[Annotated[str, Field(pattern=OWNER)]] = Field(min_length=1)
    notify: list[Notify] = Field(default_factory=list)
    recovery: Every = None  # the recovery target: the run's clock
    updates: Every = None  # report progress this often while it runs
    steps: list[ProcedureStepEntry] = Field(min_length=1)

    def to_procedure(self, name: str) -> Procedure:
        return Procedure(
            name=name,
            title=self.title,
            steps=tuple(ProcedureStep(s.due, s.step, s.owner) for s in self.steps),
            clock=self.recovery,
            trigger=self.trigger,
            decision=tuple(self.decision),
            notify=tuple(self.notify),
            updates=self.updates,
        )


class PlaybooksFile(_Strict):
    playbooks: dict[Annotated[str, Field(pattern=PLAYBOOK_NAME)], PlaybookEntry] = Field(
        default_factory=dict
    )

    def to_procedures(self) -> dict[str, Procedure]:
        return {name: entry.to_procedure(name) for name, entry in self.playbooks.items()}
