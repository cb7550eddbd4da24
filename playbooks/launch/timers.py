"""The launch's clocks: progress posts while in gray, runbook steps falling due, and the
day-1/3/7 follow-ups after completion. Pure: times come from the release's history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from playbooks import repeats
from playbooks.effects import (
    ArmTimer,
    CancelTimer,
    DirectMessage,
    Effect,
    GuardQuery,
    Post,
    Priority,
)
from playbooks.launch.state import LaunchState, open_items
from playbooks.lists import mentioned
from playbooks.messages import Button, ButtonStyle, Message, MessageField, Severity, Text, raw, t
from playbooks.procedures.plan import owner_word
from playbooks.releases import watch as release_watch
from playbooks.releases.guards import Verdict
from playbooks.releases.machine import ACTIVE, HistoryEntry, Move, Release, ReleaseState

PROGRESS_KIND = "launch.progress"
FOLLOWUP_KIND = "launch.followup"
FOLLOWUP_MEASURE_KIND = "launch.followup_measure"
# A follow-up reads the guards this long before it posts, so the post shows them fresh.
MEASURE_AHEAD = timedelta(minutes=1)
STEP_KIND = "launch.step"


def progress_key(release_id: int) -> str:
    return f"launch:{release_id}:progress"


def followup_key(release_id: int, day: int) -> str:
    return f"launch:{release_id}:followup:{day}"


def step_key(release_id: int, number: int) -> str:
    return f"launch:{release_id}:step:{number}"


def _arm_progress(
    r: Release,
    at: datetime,
    values: Mapping[str, float | None],
    said: repeats.Said | None = None,
) -> ArmTimer:
    payload: dict[str, Any] = {"release_id": r.id, "values": dict(values)}
    if said is not None:
        payload["said"] = said.to_json()
    return ArmTimer(progress_key(r.id), PROGRESS_KIND, at, payload)


def after_moves(r: Release, history: Sequence[HistoryEntry]) -> list[Effect]:
    """The launch timers a release's moves arm or stop."""
    launch = r.plan.launch
    effects: list[Effect] = []
    for entry in history:
        # Progress is reported while in gray: from the first traffic (a start, or the go
        # of a prepared release), never while prepared.
        in_gray = entry.to_state in ACTIVE
        first = entry.move in (Move.START, Move.GO, Move.RETRY)
        if first and in_gray and launch.progress_every is not None:
            effects.append(_arm_progress(r, entry.at + launch.progress_every, {}))
        if entry.move in (Move.START, Move.RETRY):
            # The runbook counts from the release's start; a retry re-arms the steps
            # still ahead (those whose time passed while rolled back stay on
            # /release runbook, not announced late).
            for number, step in enumerate(launch.runbook, start=1):
                due = r.started_at + step.at
                # A step before T (seed 004's T-1h backups) is listed, not announced late.
                if due < entry.at or (entry.move is Move.RETRY and due <= entry.at):
                    continue
                effects.append(
                    ArmTimer(
                        step_key(r.id, number), STEP_KIND, due, {"release_id": r.id, "step": number}
                    )
                )
        if entry.move in (Move.COMPLETE, Move.ROLLBACK, Move.ABORT):
            effects.append(CancelTimer(progress_key(r.id)))
        if entry.move is Move.COMPLETE:
            at_completion = {name: guard.value for name, guard in r.guards.items()}
            for followup in launch.followups:
                effects.append(
                    ArmTimer(
                        followup_key(r.id, followup.day),
                        FOLLOWUP_MEASURE_KIND,
                        followup_due(entry.at, followup.day) - MEASURE_AHEAD,
                        {
                            "release_id": r.id,
                            "day": followup.day,
                            "completed_at": entry.at.isoformat(),
                            "values": at_completion,
                        },
                    )
                )
        if entry.move in (Move.ROLLBACK, Move.ABORT):
            effects += [CancelTimer(step_key(r.id, n)) for n in range(1, len(launch.runbook) + 1)]
    return effects


def followup_due(completed_at: datetime, day: int) -> datetime:
    """When the day-N check posts. The launch day is day 1 (seed 003 §10.2 第1天（上线日）):
    day 1 right after completion (its guards read first), day 3 two days later."""
    return completed_at + timedelta(days=day - 1) + MEASURE_AHEAD


def _trend(value: float | None, before: float | None) -> str:
    if value is None or before is None:
        return ""
    if value > before:
        return " ↑"
    if value < before:
        return " ↓"
    return " →"


def guard_fields(r: Release, before: Mapping[str, float | None]) -> list[MessageField]:
    fields = []
    for guard in r.plan.guards:
        state = r.guards.get(guard.name)
        label = t("release.field.guard", guard=guard.name, threshold=guard.threshold)
        if state is None:
            value = t("release.guard.unread")
        elif state.verdict in (Verdict.OK, Verdict.BREACH):
            trend = _trend(state.value, before.get(guard.name))
            value = t(
                f"launch.guard.{state.verdict}",
                value=guard.show(state.value),
                trend=trend,
                at=state.last_at,
            )
        else:
            value = t(f"release.guard.{state.verdict}", reason=state.reason, at=state.last_at)
        fields.append(MessageField(label, value))
    return fields


def overdue_steps(r: Release, state: LaunchState, *, now: datetime) -> list[tuple[int, timedelta]]:
    return [
        (number, now - (r.started_at + step.at))
        for number, step in enumerate(r.plan.launch.runbook, start=1)
        if number not in state.steps and r.started_at + step.at < now - timedelta(minutes=1)
    ]


def _substance(r: Release, state: LaunchState, *, now: datetime) -> str:
    """What a progress report says, without its clock: the stage and state, whether the
    stage is still watched, each guard's verdict, the open items and the late steps. The
    readings themselves and the time left are left out (they change at every report)."""
    left = r.soak_left(now)
    watch = "final" if r.final_stage else "none" if left is None else "on" if left else "over"
    verdicts = [f"{name}={guard.verdict}" for name, guard in sorted(r.guards.items())]
    late = [n for n, _ in overdue_steps(r, state, now=now)]
    items = [n for n, _ in open_items(state, r)]
    return f"{r.attempt}|{r.stage}|{r.state}|{watch}|{verdicts}|{items}|{late}"


def _waits_on_a_person(r: Release, *, now: datetime) -> bool:
    """Parked: paused, or its stage's watch over (or the last stage): nothing moves until
    someone does something."""
    left = r.soak_left(now)
    return r.state is not ReleaseState.IN_STAGE or r.final_stage or not left


def progress(
    r: Release,
    state: LaunchState,
    *,
    now: datetime,
    before: Mapping[str, float | None],
    simulated: bool = False,
    said: Mapping[str, Any] | None = None,
) -> list[Effect]:
    """The progress report while the release is in gray, checked every ``progress``: said
    when it changes, else backed off (repeats.turn); in between, an unchanged report is
    only refreshed in place where the platform edits. The next check is armed.
    ``simulated``: its guard readings are made up, and it says so."""
    every = r.plan.launch.progress_every
    if not r.active or every is None:
        return []
    turn = repeats.turn(
        repeats.Said.from_json(said),
        substance=_substance(r, state, now=now),
        now=now,
        every=every,
        waiting=_waits_on_a_person(r, now=now),
    )
    left = r.soak_left(now)
    blocks: list[Text] = [
        t(
            "launch.progress_header",
            service=r.service,
            version=r.version,
            stage=r.stage_name,
            percent=r.percent,
            number=r.stage + 1,
            of=len(r.plan.stages),
            state=t(f"release.state.{r.state}"),
        ),
        t("launch.progress_next", left=left)
        if left
        else t("launch.progress_waiting")
        if r.final_stage or left is None
        else t("launch.progress_soaked"),
    ]
    if simulated:
        blocks.append(t("release.simulated_readings"))
    fields = guard_fields(r, before)
    still_open = open_items(state, r)
    if still_open:
        listed = "; ".join(f"{n}. {item.text}" for n, item in still_open[:5])
        more = len(still_open) - 5
        fields.append(
            MessageField(
                t("launch.field.open_items", count=len(still_open)),
                raw(listed + (f" (+{more})" if more > 0 else "")),
            )
        )
    late = overdue_steps(r, state, now=now)
    if late:
        fields.append(
            MessageField(
                t("launch.field.overdue_steps"),
                raw(", ".join(f"{n}" for n, _ in late)),
            )
        )
    blocks.append(t("launch.progress_next_update", at=turn.next_at))
    values = {name: guard.value for name, guard in r.guards.items()}
    # One report per attempt, edited in place where the platform can edit.
    report = Message(blocks=tuple(blocks), fields=tuple(fields))
    return [
        Post(
            r.channel,
            report,
            edit_key=f"release:{r.id}:a{r.attempt}:progress",
            priority=Priority.REPORT,
            revision_only=not turn.speak,
        ),
        _arm_progress(r, now + every, values, turn.said),
    ]


def followup_measure(r: Release, payload: Mapping[str, Any], *, now: datetime) -> list[Effect]:
    """Shortly before a day-N check: read every guard once more, then post."""
    if r.state is not ReleaseState.COMPLETED:
        return []
    day = int(payload["day"])
    return [
        release_watch.measure(r, [GuardQuery(g.name, g.query) for g in r.plan.guards], now=now),
        ArmTimer(
            f"{followup_key(r.id, day)}:post",
            FOLLOWUP_KIND,
            now + MEASURE_AHEAD,
            dict(payload),
        ),
    ]


def followup(
    r: Release,
    *,
    day: int,
    completed_at: datetime,
    before: Mapping[str, float | None],
    simulated: bool = False,
) -> list[Effect]:
    """The day-N check after completion: its items, and the guards now against their
    readings at completion (the trend arrows)."""
    entry = next((f for f in r.plan.launch.followups if f.day == day), None)
    if entry is None or r.state is not ReleaseState.COMPLETED:
        return []
    blocks: list[Text] = [
        t("launch.followup_header", day=day, service=r.service, version=r.version, at=completed_at)
    ]
    blocks += [raw(f"☐ {item}") for item in entry.items]
    blocks.append(t("launch.followup_guards"))
    if simulated:
        blocks.append(t("release.simulated_readings"))
    fields = tuple(guard_fields(r, before))
    return [Post(r.channel, Message(blocks=tuple(blocks), fields=fields))]


def step_due(r: Release, state: LaunchState, *, number: int, owners: Sequence[str]) -> list[Effect]:
    """A runbook step's time has come: its owners hear of it, with Done and Skip."""
    steps = r.plan.launch.runbook
    stopped = r.state in (ReleaseState.ABORTED, ReleaseState.ROLLED_BACK)
    if not 1 <= number <= len(steps) or number in state.steps or stopped:
        return []
    step = steps[number - 1]
    who = mentioned(owners)
    text = t(
        "launch.step_due",
        number=number,
        service=r.service,
        step=raw(step.text),
        owner=owner_word(step.owner),
        who=who,
    )
    buttons = (
        Button(t("button.done"), f"/release step {r.service} {number} done", ButtonStyle.PRIMARY),
        Button(t("button.skip"), f"/release step {r.service} {number} skip"),
    )
    # One post mentions every owner; only an owner who is not in the channel gets a copy.
    message = Message(
        blocks=(text,), buttons=buttons, severity=Severity.INFO, mentions=tuple(owners)
    )
    direct = replace(message, mentions=())
    return [
        Post(r.channel, message),
        *(DirectMessage(o, direct, unless_in=(r.channel,)) for o in owners),
    ]
