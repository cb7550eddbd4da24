"""A procedure being run: a rollback runbook or an emergency playbook, its steps marked
done or skipped, reminders for the late ones, its clock. Pure: ``now`` is a parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from playbooks.effects import (
    ArmTimer,
    CancelTimer,
    Conversation,
    DirectMessage,
    Effect,
    Post,
    Priority,
)
from playbooks.errors import NotFound
from playbooks.launch.state import Mark
from playbooks.lists import mentioned
from playbooks.messages import (
    Button,
    ButtonStyle,
    Message,
    MessageField,
    Severity,
    Text,
    joined,
    raw,
    t,
    text_from_str,
)
from playbooks.procedures.plan import Procedure, owner_word
from playbooks.releases.machine import Refused

STEP_KIND = "run.step"
CLOCK_KIND = "run.clock"
UPDATES_KIND = "run.updates"


class RunKind(StrEnum):
    ROLLBACK = "rollback"
    PLAYBOOK = "playbook"


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    kind: RunKind
    procedure: Procedure
    channel: Conversation
    started_at: datetime
    started_by: str
    service: str | None = None
    release_id: int | None = None
    subject: str = ""  # "web 2.0.0" for a rollback
    reason: str = ""
    marks: Mapping[int, Mark] = field(default_factory=dict)
    closed_at: datetime | None = None

    def due(self, number: int) -> datetime:
        return self.started_at + self.procedure.steps[number - 1].due

    @property
    def clock_ends(self) -> datetime | None:
        clock = self.procedure.clock
        return self.started_at + clock if clock is not None else None

    @property
    def open_steps(self) -> list[int]:
        return [n for n in range(1, len(self.procedure.steps) + 1) if n not in self.marks]

    @property
    def label(self) -> Text:
        """``#3 severe-bug (miniapp)``; a plan's rollback runbook is named in the reader's
        language rather than by its built-in name."""
        name = t("run.kind.rollback") if self.kind is RunKind.ROLLBACK else raw(self.procedure.name)
        if self.service:
            return t("run.label_service", id=self.id, name=name, service=self.service)
        return t("run.label", id=self.id, name=name)


class UnknownStep(NotFound):
    """A step the procedure does not have."""


# Owners are resolved by the caller (people and duties live in config): word → handles.
Who = Mapping[str, Sequence[str]]


def _who(who: Who, word: str) -> Text:
    handles = who.get(word, ())
    if not handles:
        return owner_word(word)
    return t("run.who", word=owner_word(word), handles=mentioned(handles))


def step_key(run_id: int, number: int) -> str:
    return f"run:{run_id}:step:{number}"


def clock_key(run_id: int) -> str:
    return f"run:{run_id}:clock"


def updates_key(run_id: int) -> str:
    return f"run:{run_id}:updates"


def _what(run: Run) -> Text:
    if run.kind is RunKind.ROLLBACK:
        return t("run.what.rollback", subject=run.subject)
    return raw(run.procedure.title)


def _header(run: Run) -> Text:
    p = run.procedure
    key = f"run.header.{run.kind}" + ("" if p.clock is not None else "_no_clock")
    return t(
        key,
        id=run.id,
        title=raw(p.title),
        subject=run.subject or run.service or "-",
        clock=p.clock,
        by=run.clock_ends,
    )


def _buttons(run: Run, number: int | None = None) -> tuple[Button, ...]:
    """Done and Skip for step ``number``, else for the first open one."""
    if run.closed_at is not None or not run.open_steps:
        return ()
    nxt = number if number is not None else run.open_steps[0]
    return (
        Button(
            t("run.button.done", number=nxt),
            f"/playbook step {run.id} {nxt} done",
            ButtonStyle.PRIMARY,
        ),
        Button(t("run.button.skip", number=nxt), f"/playbook step {run.id} {nxt} skip"),
    )


def view(run: Run, *, now: datetime, who: Who) -> Message:
    """Every step with its owner, due time and state; the clock and who decides."""
    p = run.procedure
    blocks: list[Text] = [_header(run)]
    if run.reason:
        blocks.append(t("run.reason", reason=text_from_str(run.reason)))
    if p.trigger:
        blocks.append(t("run.trigger", trigger=raw(p.trigger)))
    if p.decision:
        deciders = [_who(who, w) for w in p.decision]
        blocks.append(t("run.decision", who=joined(deciders, separator="list.commas")))
    fields = []
    late = 0
    for number, step in enumerate(p.steps, start=1):
        due = run.due(number)
        label = t(
            "run.step_label",
            number=number,
            offset=step.due,
            due=due,
            text=raw(step.text),
            owner=_who(who, step.owner),
        )
        mark = run.marks.get(number)
        if mark is not None:
            value = mark.shown()
        elif run.closed_at is None and due < now:
            late += 1
            value = t("runbook.overdue", late=now - due)
        else:
            value = t("runbook.due_in", left=max(due - now, timedelta(0)))
        fields.append(MessageField(label, value))
    if run.closed_at is not None:
        blocks.append(t("run.closed", at=run.closed_at, took=run.closed_at - run.started_at))
    elif late:
        blocks.append(t("runbook.overdue_count", count=late))
    return Message(
        blocks=tuple(blocks),
        fields=tuple(fields),
        buttons=_buttons(run),
        severity=Severity.WARNING if late else Severity.INFO,
    )


def opened(
    run: Run, *, who: Who, notify: Sequence[Conversation] = (), people: Sequence[str] = ()
) -> list[Effect]:
    """The run posted where it is tracked (and to the conversations and people it must
    reach), with a reminder armed for each step and for its clock."""
    message = view(run, now=run.started_at, who=who)
    effects: list[Effect] = [Post(run.channel, message)]
    effects += [Post(c, message) for c in notify if c != run.channel]
    told = (run.channel, *notify)
    effects += [DirectMessage(h, message, unless_in=told) for h in people]
    clock = run.procedure.clock
    for number, step in enumerate(run.procedure.steps, start=1):
        if clock is not None and step.due == clock:
            continue  # said by the clock's own reminder, with every step it covers
        effects.append(
            ArmTimer(
                step_key(run.id, number),
                STEP_KIND,
                run.due(number),
                {"run_id": run.id, "step": number},
            )
        )
    if run.clock_ends is not None:
        effects.append(ArmTimer(clock_key(run.id), CLOCK_KIND, run.clock_ends, {"run_id": run.id}))
    if run.procedure.updates is not None:
        effects.append(
            ArmTimer(
                updates_key(run.id),
                UPDATES_KIND,
                run.started_at + run.procedure.updates,
                {"run_id": run.id},
            )
        )
    return effects


def mark(
    run: Run, number: int, *, state: str, by: str, at: datetime, note: str = ""
) -> tuple[Run, list[Effect], Message]:
    """A step marked done or skipped; the run closes when its last step is."""
    steps = run.procedure.steps
    if not 1 <= number <= len(steps):
        raise UnknownStep(t("run.no_such_step", id=run.id, number=number, count=len(steps)))
    if run.closed_at is not None:
        raise Refused(t("run.already_closed", id=run.id, at=run.closed_at))
    before = run.marks.get(number)
    if before is not None:
        raise Refused(before.refusal(number))
    after = replace(run, marks={**run.marks, number: Mark(by, at, note, state)})
    effects: list[Effect] = [CancelTimer(step_key(run.id, number))]
    blocks: list[Text] = [
        t(
            f"run.marked_{state}",
            id=run.id,
            number=number,
            step=raw(steps[number - 1].text),
            actor=by,
        )
    ]
    clock = run.procedure.clock
    covered = [n for n in range(1, len(steps) + 1) if run.procedure.within_clock(n)]
    if clock is not None and number in covered and all(n in after.marks for n in covered):
        took = at - run.started_at
        effects.append(CancelTimer(clock_key(run.id)))
        key = "run.clock_met" if took <= clock else "run.clock_missed"
        blocks.append(t(key, took=took, clock=clock))
    if not after.open_steps:
        after = replace(after, closed_at=at)
        effects += [CancelTimer(clock_key(run.id)), CancelTimer(updates_key(run.id))]
        blocks.append(t("run.all_marked", id=run.id, took=at - run.started_at))
    message = Message(
        blocks=tuple(blocks),
        buttons=_buttons(after),
        severity=Severity.SUCCESS if state == "done" else Severity.INFO,
    )
    return after, [*effects, Post(run.channel, message)], message


def step_overdue(run: Run, number: int, *, now: datetime, who: Who) -> list[Effect]:
    """A step's due time has passed unmarked: its owners are reminded, once."""
    if run.closed_at is not None or number in run.marks:
        return []
    if not 1 <= number <= len(run.procedure.steps):
        return []
    step = run.procedure.steps[number - 1]
    owners = list(who.get(step.owner, ()))
    text = t(
        "run.step_overdue",
        id=run.id,
        number=number,
        step=raw(step.text),
        owner=_who(who, step.owner),
        due=run.due(number),
    )
    message = Message(blocks=(text,), buttons=_buttons(run, number), severity=Severity.WARNING)
    return [
        Post(run.channel, message),
        *(DirectMessage(h, message, unless_in=(run.channel,)) for h in owners),
    ]


def clock_over(run: Run, *, who: Who) -> list[Effect]:
    """The clock ran out with steps it covers still open: said once, to the channel and to
    whoever started the run and decides."""
    clock = run.procedure.clock
    if run.closed_at is not None or clock is None:
        return []
    late = [n for n in run.open_steps if run.procedure.within_clock(n)]
    if not late:
        return []
    overdue = joined(
        [
            t(
                "run.late_step",
                number=n,
                text=raw(run.procedure.steps[n - 1].text),
                owner=_who(who, run.procedure.steps[n - 1].owner),
            )
            for n in late
        ]
    )
    text = t("run.clock_breached", id=run.id, title=_what(run), clock=clock)
    message = Message(blocks=(text, overdue), buttons=_buttons(run), severity=Severity.DANGER)
    people: list[str] = []
    for word in ("owner", *run.procedure.decision):
        people += [h for h in who.get(word, ()) if h not in people]
    return [
        Post(run.channel, message),
        *(DirectMessage(h, message, unless_in=(run.channel,)) for h in people),
    ]


def update_due(run: Run, *, now: datetime) -> list[Effect]:
    """Seed 003 §8.2 每30分钟汇报进展: a reminder to report progress, until the run closes."""
    every = run.procedure.updates
    if run.closed_at is not None or every is None:
        return []
    text = t(
        "run.update_due",
        id=run.id,
        title=raw(run.procedure.title),
        every=every,
        open=len(run.open_steps),
    )
    return [
        Post(run.channel, Message.of(text, severity=Severity.INFO), priority=Priority.REPORT),
        ArmTimer(updates_key(run.id), UPDATES_KIND, now + every, {"run_id": run.id}),
    ]
