"""How releases, their history and the plans on offer read in a message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from playbooks.business_time import Deadline
from playbooks.messages import Message, MessageField, Severity, Text, joined, raw, t
from playbooks.releases.guards import Verdict
from playbooks.releases.machine import HistoryEntry, Release, ReleaseState, blockers, buttons
from playbooks.releases.plan import Plan

_SEVERITY = {
    ReleaseState.PREPARED: Severity.INFO,
    ReleaseState.PENDING: Severity.INFO,
    ReleaseState.IN_STAGE: Severity.INFO,
    ReleaseState.PAUSED: Severity.WARNING,
    ReleaseState.COMPLETED: Severity.SUCCESS,
    ReleaseState.ROLLED_BACK: Severity.DANGER,
    ReleaseState.ABORTED: Severity.WARNING,
}


def status(
    r: Release, *, now: datetime, held_by: Sequence[Text] = (), simulated: bool = False
) -> Message:
    """Stage, percent, soak left, every guard's last reading, and what blocks promotion;
    ``simulated``: the readings are made up (the simulated source, outside a drill)."""
    fields = [
        MessageField(t("release.field.state"), t(f"release.state.{r.state}")),
        MessageField(
            t("release.field.stage"),
            t("release.stage_value", stage=r.stage_name, percent=r.percent, of=len(r.plan.stages))
            if r.stage >= 0
            else raw("-"),
        ),
        MessageField(t("release.field.owner"), raw(f"@{r.owner}")),
    ]
    left = r.soak_left(now)
    if r.active and left is not None:
        fields.append(
            MessageField(t("release.field.soak_left"), t("release.soak_value", left=left))
        )
    if r.paused_reason:
        fields.append(MessageField(t("release.field.paused"), r.paused_reason))
    # Nothing is read while prepared: the guards start with the first traffic.
    watched = r.plan.guards if r.state is not ReleaseState.PREPARED else ()
    for guard in watched:
        state = r.guards.get(guard.name)
        label = t("release.field.guard", guard=guard.name, threshold=guard.threshold)
        if state is None:
            value = t("release.guard.unread")
        elif state.verdict in (Verdict.OK, Verdict.BREACH):
            value = t(
                f"release.guard.{state.verdict}", value=guard.show(state.value), at=state.last_at
            )
        else:
            value = t(f"release.guard.{state.verdict}", reason=state.reason, at=state.last_at)
        fields.append(MessageField(label, value))
    blocks: list[Text] = [
        t("release.status_header", service=r.service, version=r.version, plan=r.plan.name)
    ]
    if simulated and watched:
        blocks.append(t("release.simulated_readings"))
    found = holding(r, now=now, held_by=held_by)
    if r.state is ReleaseState.PREPARED:
        # ``held_by`` is what holds the first traffic: open checks, a closed window.
        first = r.plan.stages[0]
        if found:
            blocks.append(t("release.go_blocked_by", stage=first.name, percent=first.percent))
            blocks += found
        else:
            blocks.append(t("release.go_ready", service=r.service))
    if r.state is ReleaseState.IN_STAGE and not r.final_stage:
        if found:
            blocks.append(t("release.blocked_by"))
            blocks += found
        else:
            blocks.append(t("release.ready", service=r.service))
    return Message(
        blocks=tuple(blocks),
        fields=tuple(fields),
        buttons=buttons(r),
        severity=_SEVERITY[r.state],
    )


def holding(r: Release, *, now: datetime, held_by: Sequence[Text] = ()) -> list[Text]:
    """What holds the release where it is, as its status lists it: a prepared release's
    first traffic (``held_by``), a stage's promotion (every blocker); nothing otherwise."""
    if r.state is ReleaseState.PREPARED:
        return list(held_by)
    if r.state is ReleaseState.IN_STAGE and not r.final_stage:
        return blockers(r, now=now, held_by=held_by)
    return []


def summary_line(r: Release, *, now: datetime) -> MessageField:
    left = r.soak_left(now)
    return MessageField(
        raw(f"{r.service} {r.version}"),
        t(
            "release.summary_value",
            state=t(f"release.state.{r.state}"),
            stage=r.stage_name,
            percent=r.percent,
            left=left if left else None,
        ),
    )


def history(service: str | None, entries: Iterable[tuple[str, HistoryEntry]]) -> Message:
    rows = list(entries)
    if not rows:
        return Message.of(t("release.history_empty"))
    header = t("release.history_header", service=service) if service else t("release.history_all")
    return Message(
        blocks=(header,),
        fields=tuple(
            MessageField(
                t("release.history_when", at=e.at, actor=e.actor),
                t(
                    "release.history_line",
                    release=label,
                    move=t(f"release.move.{e.move}"),
                    old=e.from_percent,
                    percent=e.to_percent,
                    state=t(f"release.state.{e.to_state}"),
                    reason=t("release.history_reason", reason=e.reason) if e.reason else raw(""),
                ),
            )
            for label, e in rows
        ),
    )


def plans(catalog: Iterable[Plan]) -> Message:
    fields = []
    for plan in catalog:
        stages = " → ".join(
            f"{s.percent:g}%" + (f" ({_compact(s.soak)})" if s.soak else "") for s in plan.stages
        )
        parts = [
            t(
                "release.plan_guard",
                guard=g.name,
                threshold=g.threshold,
                window=_compact(g.window),
                action=t(f"release.action.{g.action}"),
            )
            for g in plan.guards
        ]
        if plan.rollback_reasons:
            parts.append(raw(_rollback_words(plan)))
        fields.append(
            MessageField(
                raw(plan.name),
                t(
                    "release.plan_line",
                    stages=stages,
                    guards=joined(parts) if parts else raw("-"),
                    auto=t(
                        "release.promotion.auto"
                        if plan.auto_promote
                        else "release.promotion.manual"
                    ),
                ),
            )
        )
    return Message(blocks=(t("release.plans_header"),), fields=tuple(fields))


def _rollback_words(plan: Plan) -> str:
    """``rollback reasons: complaints, security, …``: the words /release rollback takes."""
    return "/release rollback --reason " + "|".join(key for key, _ in plan.rollback_reasons)


def _compact(span: timedelta) -> str:
    """A duration in plan files' own notation (30m, 2h, 1d): the same in every language."""
    return Deadline(duration=span).describe()
