"""How a launch reads in a message: its checklist, the Go/No-Go table, the runbook."""

from __future__ import annotations

from datetime import datetime, timedelta

from playbooks.launch.gonogo import Assessment, Verdict
from playbooks.launch.state import LaunchState, gate_stage
from playbooks.messages import Button, ButtonStyle, Message, MessageField, Severity, Text, raw, t
from playbooks.procedures.plan import owner_word
from playbooks.releases.machine import Release

MAX_BUTTONS = 8

_VERDICT_SEVERITY = {
    Verdict.GO: Severity.SUCCESS,
    Verdict.REVIEW: Severity.WARNING,
    Verdict.NO_GO: Severity.DANGER,
}


def checklist(r: Release, state: LaunchState) -> Message:
    """Every item with who ticked it and when; a Tick button for each open one."""
    items = r.plan.launch.checklist
    if not items:
        return Message.of(t("checklist.none", service=r.service, plan=r.plan.name))
    fields = []
    buttons: list[Button] = []
    for number, entry in enumerate(items, start=1):
        need = (
            t("checklist.required_before", stage=r.plan.stages[gate_stage(r, entry)].name)
            if entry.required
            else t("checklist.optional")
        )
        label = t("checklist.item_label", number=number, text=raw(entry.text), need=need)
        mark = state.checks.get(number)
        if mark is None:
            value = t("checklist.open")
            if len(buttons) < MAX_BUTTONS:
                buttons.append(
                    Button(
                        t("checklist.button.tick", number=number),
                        f"/release check {r.service} {number}",
                    )
                )
        else:
            value = t(
                "checklist.ticked",
                actor=mark.by,
                at=mark.at,
                note=raw(f" — {mark.note}") if mark.note else raw(""),
            )
        fields.append(MessageField(label, value))
    done = sum(1 for n in range(1, len(items) + 1) if n in state.checks)
    header = t(
        "checklist.header", service=r.service, version=r.version, done=done, count=len(items)
    )
    return Message(blocks=(header,), fields=tuple(fields), buttons=tuple(buttons))


def gonogo(r: Release, a: Assessment) -> Message:
    fields = tuple(
        MessageField(
            raw(f"{row.label} ({row.weight:g}%)"),
            t(
                "gonogo.row",
                value=row.value,
                op=row.op,
                target=row.target,
                met=t("gonogo.met" if row.met else "gonogo.missed"),
                points=row.weight if row.met else 0,
            ),
        )
        for row in a.rows
    )
    policy = r.plan.launch.gonogo
    blocks: list[Text] = [
        t(
            "gonogo.result",
            service=r.service,
            version=r.version,
            score=a.score,
            verdict=a.verdict.value,
            go_at=policy.go_at,
            review_at=policy.review_at,
        ),
    ]
    if a.approved_by:
        # Approved: what to do next is no longer "…or a release manager approves it".
        blocks.append(t("gonogo.approved_by", actor=a.approved_by))
    else:
        meaning = a.verdict.name.lower()
        if a.verdict is Verdict.REVIEW and not policy.approve_review:
            meaning = "review_fix"
        blocks.append(t(f"gonogo.meaning.{meaning}", service=r.service))
    return Message(blocks=tuple(blocks), fields=fields, severity=_VERDICT_SEVERITY[a.verdict])


def _offset(span: timedelta) -> str:
    """``T+1:15``, or ``T-1:00`` for a step before the start (seed 004's backups)."""
    minutes = int(abs(span.total_seconds()) // 60)
    sign = "-" if span < timedelta(0) else "+"
    return f"T{sign}{minutes // 60}:{minutes % 60:02d}"


def runbook(r: Release, state: LaunchState, *, now: datetime) -> Message:
    steps = r.plan.launch.runbook
    if not steps:
        return Message.of(t("runbook.none", service=r.service, plan=r.plan.name))
    fields = []
    late = 0
    for number, step in enumerate(steps, start=1):
        due = r.started_at + step.at
        label = t(
            "runbook.step_label",
            number=number,
            offset=_offset(step.at),
            due=due,
            text=raw(step.text),
            owner=owner_word(step.owner),
        )
        mark = state.steps.get(number)
        if mark is not None:
            value = mark.shown()
        elif due < now:
            late += 1
            value = t("runbook.overdue", late=now - due)
        else:
            value = t("runbook.due_in", left=due - now)
        fields.append(MessageField(label, value))
    header = t("runbook.header", service=r.service, version=r.version, started=r.started_at)
    blocks: list[Text] = [header]
    if late:
        blocks.append(t("runbook.overdue_count", count=late))
    return Message(
        blocks=tuple(blocks),
        fields=tuple(fields),
        severity=Severity.WARNING if late else Severity.INFO,
    )


def marked(r: Release, number: int, *, state: str, actor: str) -> Message:
    step = r.plan.launch.runbook[number - 1]
    return Message.of(
        t(
            f"runbook.marked_{state}",
            number=number,
            service=r.service,
            step=raw(step.text),
            actor=actor,
        ),
        severity=Severity.SUCCESS if state == "done" else Severity.INFO,
    )


def check_button(service: str) -> Button:
    return Button(t("checklist.button.show"), f"/release checklist {service}", ButtonStyle.DEFAULT)
