"""The release state machine: a declarative table of moves, and the transitions that
walk a release through its plan's stages. Pure: ``now`` is always a parameter.

    (start) ──► prepared ──go──► in_stage(0)     (a plan with required checks before
       │                                          its first stage: no traffic yet)
       └──────────────────────────► in_stage(0)   (any other plan: traffic at once)

    pending ──applied──► in_stage(n) ──promote──► in_stage(n+1) … ──► completed
       ▲                  │    ▲                      (pending instead, when a
       └──────promote─────┤    └─resume── paused      person applies traffic)
                          ├──pause──────► paused
                          └──rollback───► rolled_back ──retry──► in_stage(0)
    any open state or rolled_back ──abort──► aborted
"""

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
    SetTraffic,
    Unwatch,
    Watch,
)
from playbooks.errors import InvalidTransition, ShipwatchError
from playbooks.messages import Button, ButtonStyle, Message, Severity, Text, as_text, t, text_to_str
from playbooks.people import BOT
from playbooks.releases import guards as rules
from playbooks.releases.guards import GuardState
from playbooks.releases.plan import Evidence, Plan, TrafficKind

# Guard ticks were durable timers once; a row of this kind left by an earlier version is
# fired once and ignored, since the bot now watches every live release in memory.
TICK_KIND = "release.tick"
SOAK_KIND = "release.soak"


class ReleaseState(StrEnum):
    PREPARED = "prepared"  # started, no traffic yet: waiting for its checks and /release go
    PENDING = "pending"  # traffic asked for, not yet confirmed applied by a person
    IN_STAGE = "in_stage"
    PAUSED = "paused"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


# In gray: traffic has moved, the guards watch it.
ACTIVE = frozenset({ReleaseState.PENDING, ReleaseState.IN_STAGE, ReleaseState.PAUSED})
# Holding the service: no other release of it may start.
OPEN = ACTIVE | {ReleaseState.PREPARED}


class Move(StrEnum):
    START = "start"
    GO = "go"
    APPLIED = "applied"
    PROMOTE = "promote"
    PAUSE = "pause"
    RESUME = "resume"
    ROLLBACK = "rollback"
    RETRY = "retry"
    COMPLETE = "complete"
    ABORT = "abort"
    APPROVE = "approve"


S = ReleaseState
# Every move the machine allows, and where it leads. Entering a stage leads to
# ``in_stage``, or to ``pending`` when a person must apply the traffic change first.
TRANSITIONS: Mapping[tuple[ReleaseState, Move], ReleaseState] = {
    (S.PREPARED, Move.GO): S.IN_STAGE,
    (S.PREPARED, Move.ABORT): S.ABORTED,
    (S.PENDING, Move.APPLIED): S.IN_STAGE,
    (S.PENDING, Move.PAUSE): S.PAUSED,
    (S.PENDING, Move.ROLLBACK): S.ROLLED_BACK,
    (S.PENDING, Move.ABORT): S.ABORTED,
    (S.IN_STAGE, Move.PROMOTE): S.IN_STAGE,
    (S.IN_STAGE, Move.PAUSE): S.PAUSED,
    (S.IN_STAGE, Move.ROLLBACK): S.ROLLED_BACK,
    (S.IN_STAGE, Move.COMPLETE): S.COMPLETED,
    (S.IN_STAGE, Move.ABORT): S.ABORTED,
    (S.IN_STAGE, Move.APPROVE): S.IN_STAGE,
    (S.PAUSED, Move.RESUME): S.IN_STAGE,
    (S.PAUSED, Move.ROLLBACK): S.ROLLED_BACK,
    (S.PAUSED, Move.ABORT): S.ABORTED,
    (S.PAUSED, Move.APPROVE): S.PAUSED,
    (S.ROLLED_BACK, Move.RETRY): S.IN_STAGE,
    (S.ROLLED_BACK, Move.ABORT): S.ABORTED,
}


def target_state(state: ReleaseState, move: Move, *, service: str) -> ReleaseState:
    """Where ``move`` leads from ``state``, or the sentence saying why it cannot."""
    target = TRANSITIONS.get((state, move))
    if target is None and move is Move.APPLIED:
        raise InvalidTransition(
            t("release.nothing_to_apply", service=service, state=t(f"release.state.{state}"))
        )
    if target is None:
        raise InvalidTransition(
            t(
                "release.invalid_move",
                service=service,
                move=t(f"release.move.{move}"),
                state=t(f"release.state.{state}"),
            )
        )
    return target


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    service: str
    version: str
    plan: Plan
    state: ReleaseState
    stage: int
    percent: float
    owner: str
    attempt: int
    channel: Conversation
    traffic: TrafficKind
    metrics: str
    started_at: datetime
    stage_started_at: datetime | None = None  # None until traffic is applied
    paused_reason: Text | None = None
    note: str = ""
    guards: Mapping[str, GuardState] = field(default_factory=dict)
    approvals: frozenset[str] = frozenset()

    @property
    def stage_name(self) -> str:
        return self.plan.stages[self.stage].name if self.stage >= 0 else "-"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def final_stage(self) -> bool:
        return self.stage == len(self.plan.stages) - 1

    def soak_left(self, now: datetime) -> timedelta | None:
        soak = self.plan.stages[self.stage].soak if self.stage >= 0 else None
        if soak is None or self.stage_started_at is None:
            return None
        return max(timedelta(0), self.stage_started_at + soak - now)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor: str
    move: Move
    from_state: ReleaseState | None
    to_state: ReleaseState
    from_percent: float
    to_percent: float
    stage: str
    reason: Text | None = None


# A reason is catalog text (a guard's finding) or a person's own words ("" for none).
Reason = Text | str


def _reason(value: Reason | None) -> Text | None:
    return as_text(value) if value else None


@dataclass(slots=True)
class Result:
    release: Release
    effects: list[Effect] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    reply: Message | None = None


class Refused(ShipwatchError):
    """Promotion refused; ``details`` lists every blocker."""


# ---------------------------------------------------------------- keys and effects


def tick_key(release_id: int) -> str:
    return f"release:{release_id}:tick"


def soak_key(release_id: int) -> str:
    return f"release:{release_id}:soak"


def _traffic(r: Release, *, rollback: bool = False, reason: Reason = "") -> list[Effect]:
    """Tell the backend the release's traffic (or, for a manual backend, a person)."""
    if r.traffic is TrafficKind.MANUAL:
        key = "release.manual_rollback" if rollback else "release.manual_apply"
        return [
            Post(
                r.channel,
                Message.of(
                    t(
                        key,
                        service=r.service,
                        version=r.version,
                        percent=r.percent,
                        stage=r.stage_name,
                    ),
                    severity=Severity.WARNING,
                ),
            )
        ]
    action = "rollback" if rollback else f"s{r.stage}"
    return [
        SetTraffic(
            service=r.service,
            version=r.version,
            percent=r.percent,
            stage="rollback" if rollback else r.stage_name,
            key=f"release-{r.id}-a{r.attempt}-{action}",
            rollback=rollback,
            reason=text_to_str(reason),
        )
    ]


def _timers_for_stage(r: Release) -> list[Effect]:
    effects: list[Effect] = [CancelTimer(soak_key(r.id))]
    soak = r.plan.stages[r.stage].soak
    if soak is not None and r.stage_started_at is not None:
        effects.append(
            ArmTimer(
                soak_key(r.id),
                SOAK_KIND,
                r.stage_started_at + soak,
                {"release_id": r.id, "attempt": r.attempt, "stage": r.stage},
            )
        )
    return effects


def _stop_timers(r: Release) -> list[Effect]:
    return [CancelTimer(soak_key(r.id)), Unwatch(r.id)]


class BrokenMove(AssertionError):
    """A move left a release in a state ``TRANSITIONS`` does not allow: a bug in the
    machine, never a person's mistake (those are ``InvalidTransition``, said before any
    move is made). It fails the whole request, so nothing of the move is written."""


def check_move(before: ReleaseState, move: Move, after: ReleaseState) -> None:
    """Hold a move to ``TRANSITIONS``. Entering a stage may wait for a person to apply the
    traffic (``pending``) instead of ``in_stage``; a new release (``pending`` with no
    stage) starts into its first stage or, with checks to tick first, ``prepared``."""
    if move is Move.START:
        allowed = {S.IN_STAGE, S.PENDING, S.PREPARED} if before is S.PENDING else set()
    else:
        target = TRANSITIONS.get((before, move))
        allowed = set() if target is None else {target}
        if target is S.IN_STAGE:
            allowed.add(S.PENDING)
    if after not in allowed:
        raise BrokenMove(f"{move.value} led from {before.value} to {after.value}")


def _entry(
    before: Release, after: Release, move: Move, actor: str, now: datetime, reason: Reason = ""
) -> HistoryEntry:
    """The history line of a move, once the move is held to the machine's transitions."""
    check_move(before.state, move, after.state)
    return HistoryEntry(
        at=now,
        actor=actor,
        move=move,
        from_state=before.state,
        to_state=after.state,
        from_percent=before.percent,
        to_percent=after.percent,
        stage=after.stage_name,
        reason=_reason(reason),
    )


def _announce(r: Release, text: Text, *, severity: Severity = Severity.INFO) -> Post:
    return Post(r.channel, Message(blocks=(text,), severity=severity, buttons=buttons(r)))


def buttons(r: Release) -> tuple[Button, ...]:
    """Promote, Pause and Roll back, as far as the release's state allows them."""
    if r.state is S.IN_STAGE and not r.final_stage:
        return (
            Button(
                t("release.button.promote"), f"/release promote {r.service}", ButtonStyle.PRIMARY
            ),
            Button(t("release.button.pause"), f"/release pause {r.service}"),
            _rollback_button(r),
        )
    if r.state in (S.IN_STAGE, S.PENDING):
        return (
            Button(t("release.button.pause"), f"/release pause {r.service}"),
            _rollback_button(r),
        )
    if r.state is S.PAUSED:
        return (
            Button(t("release.button.resume"), f"/release resume {r.service}"),
            _rollback_button(r),
        )
    if r.state is S.PREPARED:
        return (
            Button(t("release.button.go"), f"/release go {r.service}", ButtonStyle.PRIMARY),
            Button(t("checklist.button.show"), f"/release checklist {r.service}"),
        )
    return ()


def _rollback_button(r: Release) -> Button:
    return Button(
        t("release.button.rollback"),
        f'/release rollback {r.service} --reason "status button"',
        ButtonStyle.DANGER,
    )


# ---------------------------------------------------------------- entering stages


def _enter_stage(r: Release, stage: int, now: datetime) -> Release:
    manual = r.traffic is TrafficKind.MANUAL
    return replace(
        r,
        stage=stage,
        percent=r.plan.stages[stage].percent,
        state=S.PENDING if manual else S.IN_STAGE,
        stage_started_at=None if manual else now,
        approvals=frozenset(),
        paused_reason=None,
    )


def start(r: Release, *, now: datetime) -> Result:
    """A new release (state ``pending`` at stage -1) enters its first stage at once, or,
    when its plan has required checks before the first stage, waits ``prepared`` with no
    traffic and nothing watched until ``go``."""
    if r.plan.prepares:
        after = replace(r, state=S.PREPARED, stage=-1, percent=0.0)
        first = r.plan.stages[0]
        text = t(
            "release.prepared",
            service=r.service,
            version=r.version,
            plan=r.plan.name,
            percent=first.percent,
            stage=first.name,
            owner=r.owner,
        )
        return Result(
            after,
            effects=[_announce(after, text)],
            history=[_entry(r, after, Move.START, r.owner, now, r.note)],
            reply=Message(blocks=(text,), buttons=buttons(after)),
        )
    after = _enter_stage(r, 0, now)
    result = Result(after)
    result.history.append(_entry(r, after, Move.START, r.owner, now, r.note))
    result.effects += _first_traffic(after, now)
    text = t(
        "release.started",
        service=r.service,
        version=r.version,
        plan=r.plan.name,
        percent=after.percent,
        stage=after.stage_name,
        owner=r.owner,
    )
    result.effects.append(_announce(after, text))
    result.effects += _traffic(after)  # after the news: a manual backend's "please set" reads next
    result.reply = Message(blocks=(text,), buttons=buttons(after))
    return result


def _first_traffic(after: Release, now: datetime) -> list[Effect]:
    """The first stage's soak, and the guards watching from now."""
    return [*_timers_for_stage(after), Watch(after, start=now)]


def go(r: Release, *, actor: str, now: datetime, gates: Sequence[Text] = ()) -> Result:
    """A prepared release's first traffic moves, once nothing holds it: ``gates`` are the
    launch's reasons not to (the first is the sentence a person reads)."""
    target_state(r.state, Move.GO, service=r.service)
    if gates:
        raise Refused(gates[0], details=tuple(gates[1:]))
    after = _enter_stage(r, 0, now)
    result = Result(after, history=[_entry(r, after, Move.GO, actor, now)])
    result.effects += _first_traffic(after, now)
    text = t(
        "release.went",
        service=r.service,
        version=r.version,
        percent=after.percent,
        stage=after.stage_name,
        actor=actor,
    )
    result.effects.append(_announce(after, text))
    result.effects += _traffic(after)
    result.reply = Message(blocks=(text,), buttons=buttons(after))
    return result


def applied(r: Release, *, actor: str, now: datetime) -> Result:
    target_state(r.state, Move.APPLIED, service=r.service)
    after = replace(r, state=S.IN_STAGE, stage_started_at=now)
    result = Result(after, history=[_entry(r, after, Move.APPLIED, actor, now)])
    result.effects += _timers_for_stage(after)
    has_soak = r.plan.stages[r.stage].soak is not None
    key = "release.applied" if has_soak else "release.applied_no_soak"
    text = t(key, service=r.service, percent=r.percent, actor=actor)
    if after.final_stage and after.plan.stages[after.stage].soak is None:
        # 100% is live and there is nothing left to watch for: done.
        return chain(result, complete(after, now=now, actor=actor))
    result.effects.append(_announce(after, text))
    result.reply = Message.of(text)
    return result


# ---------------------------------------------------------------- promotion


def blockers(
    r: Release, *, now: datetime, target: int | None = None, held_by: Sequence[Text] = ()
) -> list[Text]:
    """Every reason the release may not move on now; empty means it may. ``held_by``: what
    else holds it, found outside the release (an incident freezing its service, a launch
    gate: open checks, Go/No-Go, a closed deploy window)."""
    found: list[Text] = list(held_by)
    if r.state is S.PENDING:
        found.append(t("release.blocker.not_applied", service=r.service, percent=r.percent))
        return found
    stage = r.plan.stages[r.stage]
    left = r.soak_left(now)
    if left:
        found.append(t("release.blocker.soak", left=left, soak=stage.soak, stage=stage.name))
    for guard in r.plan.guards:
        state = r.guards.get(guard.name)
        use_soak = r.plan.evidence is Evidence.SOAK and stage.soak is not None
        since = r.stage_started_at if use_soak and r.stage_started_at else now - guard.window
        if rules.clean_since(guard, state, since):
            continue
        found.append(_guard_blocker(guard.name, state, since))
    found += _target_blockers(r)
    target = r.stage + 1 if target is None else target
    for index in range(r.stage + 1, min(target, len(r.plan.stages) - 1) + 1):
        needed = r.plan.stages[index].approvals
        have = len(r.approvals) if index == r.stage + 1 else 0
        if needed > have:
            found.append(
                t(
                    "release.blocker.approvals",
                    stage=r.plan.stages[index].name,
                    needed=needed,
                    have=have,
                    service=r.service,
                )
            )
    return found


def _target_blockers(r: Release) -> list[Text]:
    """The stage's own promotion targets (seed 003 §5.1) not held since it began."""
    stage = r.plan.stages[r.stage]
    found: list[Text] = []
    if r.stage_started_at is None:
        return found
    for name, limit in stage.targets:
        guard = r.plan.guard_named(name)
        if guard is None:
            continue
        peak = rules.peak_since(guard, r.guards.get(name), r.stage_started_at)
        if peak is None:
            found.append(
                t(
                    "release.blocker.target_unread",
                    guard=name,
                    target=guard.show(limit),
                    stage=stage.name,
                )
            )
        elif peak >= limit:
            found.append(
                t(
                    "release.blocker.target",
                    guard=name,
                    peak=guard.show(peak),
                    target=guard.show(limit),
                    stage=stage.name,
                )
            )
    return found


def _guard_blocker(name: str, state: GuardState | None, since: datetime) -> Text:
    if state is None:
        return t("release.blocker.guard_unread", guard=name)
    if state.verdict is rules.Verdict.OK:
        return t("release.blocker.guard_recent", guard=name, ok_since=state.ok_since, since=since)
    return t(
        f"release.blocker.guard_{state.verdict}",
        guard=name,
        reason=state.reason,
        since=state.breach_since or state.unknown_since,
    )


def resolve_target(r: Release, to: str | None) -> int:
    """The stage index ``--to`` names (a percent like ``50%`` or a stage name)."""
    if to is None:
        if r.final_stage:
            raise Refused(t("release.already_final", service=r.service, percent=r.percent))
        return r.stage + 1
    text = to.strip()
    if text.endswith("%"):
        try:
            percent = float(text[:-1])
        except ValueError:
            percent = -1.0
        index = r.plan.stage_at_percent(percent)
        if index is None:
            raise Refused(
                t(
                    "release.no_such_percent",
                    value=text,
                    plan=r.plan.name,
                    stages=_stage_list(r.plan),
                )
            )
    else:
        found = r.plan.stage_named(text)
        if found is None:
            raise Refused(
                t("release.no_such_stage", value=text, plan=r.plan.name, stages=_stage_list(r.plan))
            )
        index = found
    if index < r.stage:
        raise Refused(t("release.to_lower", service=r.service, value=text, percent=r.percent))
    if index == r.stage:
        raise Refused(t("release.already_there", service=r.service, percent=r.percent))
    return index


def _stage_list(plan: Plan) -> str:
    return " → ".join(f"{s.name} {s.percent:g}%" for s in plan.stages)


def promote(
    r: Release,
    *,
    actor: str,
    now: datetime,
    to: str | None = None,
    force_reason: Reason | None = None,
    held_by: Sequence[Text] = (),
) -> Result:
    if r.state is S.PAUSED:
        raise Refused(t("release.paused_first", service=r.service, reason=r.paused_reason or "-"))
    if r.state is S.PENDING:
        raise Refused(t("release.blocker.not_applied", service=r.service, percent=r.percent))
    if r.state is S.PREPARED:
        raise Refused(t("release.go_first", service=r.service))
    target_state(r.state, Move.PROMOTE, service=r.service)
    target = resolve_target(r, to)
    if target > r.stage + 1 and force_reason is None:
        # Skipping a stage skips its watch: a release manager's decision, with a reason.
        skipped = r.plan.stages[r.stage + 1]
        raise Refused(
            t(
                "release.skip_refused",
                service=r.service,
                stage=skipped.name,
                percent=skipped.percent,
                to=to,
            )
        )
    found = blockers(r, now=now, target=target, held_by=held_by)
    found += [
        t("release.blocker.skipped", stage=s.name, percent=s.percent)
        for s in r.plan.stages[r.stage + 1 : target]
    ]
    if found and force_reason is None:
        raise Refused(
            t("release.promote_refused", service=r.service, percent=r.percent), details=tuple(found)
        )
    return advance(r, target, actor=actor, now=now, forced=found, reason=force_reason or "")


def advance(
    r: Release, target: int, *, actor: str, now: datetime, forced: list[Text], reason: Reason
) -> Result:
    after = _enter_stage(r, target, now)
    result = Result(after)
    history_reason = t("release.reason.forced", reason=as_text(reason)) if forced else reason
    result.history.append(_entry(r, after, Move.PROMOTE, actor, now, history_reason))
    key = "release.promoted_forced" if forced else "release.promoted"
    text = t(
        key,
        service=r.service,
        version=r.version,
        old=r.percent,
        percent=after.percent,
        stage=after.stage_name,
        actor=actor,
        reason=as_text(reason),
    )
    if after.final_stage and after.plan.stages[target].soak is None and after.state is S.IN_STAGE:
        # A last stage with nothing to watch: the release is done as it reaches it.
        result = chain(result, complete(after, now=now, actor=actor))
        result.effects += _traffic(after)
        return result
    result.effects += _timers_for_stage(after)
    result.effects.append(_announce(after, text))
    result.effects += _traffic(after)
    result.reply = Message(blocks=(text, *forced), buttons=buttons(after))
    return result


def approve(r: Release, *, actor: str, now: datetime) -> Result:
    target_state(r.state, Move.APPROVE, service=r.service)
    if r.final_stage:
        raise Refused(t("release.already_final", service=r.service, percent=r.percent))
    if actor == r.owner:
        raise Refused(t("release.self_approval", service=r.service))
    if actor in r.approvals:
        raise Refused(t("release.already_approved", service=r.service))
    nxt = r.plan.stages[r.stage + 1]
    if nxt.approvals == 0:
        raise Refused(t("release.no_approval_needed", service=r.service, stage=nxt.name))
    after = replace(r, approvals=r.approvals | {actor})
    text = t(
        "release.approved",
        service=r.service,
        stage=nxt.name,
        actor=actor,
        have=len(after.approvals),
        needed=nxt.approvals,
    )
    return Result(
        after,
        history=[_entry(r, after, Move.APPROVE, actor, now, nxt.name)],
        effects=[_announce(after, text)],
        reply=Message.of(text),
    )


# ---------------------------------------------------------------- brakes


def pause(r: Release, *, actor: str, now: datetime, reason: Reason) -> Result:
    target_state(r.state, Move.PAUSE, service=r.service)
    after = replace(r, state=S.PAUSED, paused_reason=_reason(reason))
    result = Result(after, history=[_entry(r, after, Move.PAUSE, actor, now, reason)])
    result.effects.append(CancelTimer(soak_key(r.id)))
    text = t(
        "release.paused", service=r.service, percent=r.percent, actor=actor, reason=_reason(reason)
    )
    result.effects.append(_announce(after, text, severity=Severity.WARNING))
    result.reply = Message(blocks=(text,), buttons=buttons(after), severity=Severity.WARNING)
    return result


def resume(r: Release, *, actor: str, now: datetime) -> Result:
    """Back into the stage; its soak starts again, since the evidence before the pause
    is what made someone stop."""
    target_state(r.state, Move.RESUME, service=r.service)
    after = replace(r, state=S.IN_STAGE, paused_reason=None, stage_started_at=now)
    if r.stage_started_at is None:  # paused while waiting for a person to apply traffic
        after = replace(after, state=S.PENDING, stage_started_at=None)
    result = Result(after, history=[_entry(r, after, Move.RESUME, actor, now)])
    result.effects += _timers_for_stage(after)
    if after.state is not S.IN_STAGE:
        key = "release.resumed_waiting"
    elif r.plan.stages[r.stage].soak is None:
        key = "release.resumed_no_soak"
    else:
        key = "release.resumed"
    text = t(
        key,
        service=r.service,
        percent=r.percent,
        actor=actor,
        soak=r.plan.stages[r.stage].soak,
    )
    result.effects.append(_announce(after, text))
    result.reply = Message(blocks=(text,), buttons=buttons(after))
    return result


def rollback(
    r: Release, *, actor: str, now: datetime, reason: Reason, evidence: Text | None = None
) -> Result:
    target_state(r.state, Move.ROLLBACK, service=r.service)
    after = replace(r, state=S.ROLLED_BACK, percent=0.0, paused_reason=None)
    result = Result(after, history=[_entry(r, after, Move.ROLLBACK, actor, now, reason)])
    result.effects += _traffic(after, rollback=True, reason=reason)
    result.effects += _stop_timers(after)
    if evidence is not None:
        text = t("release.auto_rolled_back", service=r.service, version=r.version, old=r.percent)
        blocks: tuple[Text, ...] = (text, evidence, t("release.retry_hint", service=r.service))
        message = Message(blocks=blocks, severity=Severity.DANGER)
        result.effects.append(Post(r.channel, replace(message, mentions=(r.owner,))))
        result.effects.append(DirectMessage(r.owner, message, unless_in=(r.channel,)))
    else:
        text = t(
            "release.rolled_back",
            service=r.service,
            version=r.version,
            old=r.percent,
            actor=actor,
            reason=_reason(reason),
        )
        message = Message.of(
            text, t("release.retry_hint", service=r.service), severity=Severity.DANGER
        )
        result.effects.append(Post(r.channel, message))
    result.reply = message
    return result


def retry(r: Release, *, actor: str, now: datetime) -> Result:
    target_state(r.state, Move.RETRY, service=r.service)
    fresh = replace(r, attempt=r.attempt + 1, guards={})
    after = _enter_stage(fresh, 0, now)
    result = Result(after, history=[_entry(r, after, Move.RETRY, actor, now)])
    result.effects += _timers_for_stage(after)
    result.effects.append(Watch(after, start=now))
    text = t(
        "release.retried",
        service=r.service,
        version=r.version,
        percent=after.percent,
        actor=actor,
        attempt=after.attempt,
    )
    result.effects.append(_announce(after, text))
    result.effects += _traffic(after)
    result.reply = Message(blocks=(text,), buttons=buttons(after))
    return result


def abort(r: Release, *, actor: str, now: datetime, reason: Reason) -> Result:
    target_state(r.state, Move.ABORT, service=r.service)
    after = replace(r, state=S.ABORTED, percent=0.0)
    result = Result(after, history=[_entry(r, after, Move.ABORT, actor, now, reason)])
    if r.percent > 0:
        result.effects += _traffic(after, rollback=True, reason=reason)
    result.effects += _stop_timers(after)
    text = t(
        "release.aborted", service=r.service, version=r.version, actor=actor, reason=_reason(reason)
    )
    result.effects.append(Post(r.channel, Message.of(text, severity=Severity.WARNING)))
    result.reply = Message.of(text, severity=Severity.WARNING)
    return result


def complete(r: Release, *, now: datetime, actor: str = BOT) -> Result:
    target_state(r.state, Move.COMPLETE, service=r.service)
    after = replace(r, state=S.COMPLETED)
    text = t("release.completed", service=r.service, version=r.version, actor=actor)
    return Result(
        after,
        history=[_entry(r, after, Move.COMPLETE, actor, now)],
        effects=[*_stop_timers(after), _announce(after, text, severity=Severity.SUCCESS)],
        reply=Message.of(text, severity=Severity.SUCCESS),
    )


def chain(first: Result, second: Result) -> Result:
    first.release = second.release
    first.effects += second.effects
    first.history += second.history
    first.reply = second.reply or first.reply
    return first
