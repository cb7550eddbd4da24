"""Watching a live release: guard ticks, judging readings, and soaks running out.
Pure like the machine it drives: ``now`` is always a parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from playbooks.effects import DirectMessage, Effect, GuardQuery, Measure, Post, Watch
from playbooks.lists import mentioned
from playbooks.messages import Message, Severity, Text, t
from playbooks.people import BOT
from playbooks.releases import guards as rules
from playbooks.releases.guards import Reading
from playbooks.releases.machine import (
    Release,
    ReleaseState,
    Result,
    advance,
    blockers,
    buttons,
    chain,
    complete,
    pause,
    rollback,
)
from playbooks.releases.plan import GuardAction

S = ReleaseState


def tick(r: Release, *, now: datetime) -> list[Effect]:
    """Measure the guards due now, while the release is live (the bot keeps the cadence,
    every ``plan.tick``)."""
    if not r.active:
        return []
    due = [
        GuardQuery(g.name, g.query)
        for g in r.plan.guards
        if (state := r.guards.get(g.name)) is None or now - state.last_at >= g.interval - _SLACK
    ]
    if not due:
        return []
    return [measure(r, due, now=now)]


def measure(r: Release, guards: Sequence[GuardQuery], *, now: datetime) -> Measure:
    """Read ``guards`` of ``r`` now (outside any transaction) and report them back."""
    return Measure(
        release_id=r.id,
        attempt=r.attempt,
        stage=r.stage,
        at=now,
        service=r.service,
        version=r.version,
        stage_name=r.stage_name,
        source=r.metrics,
        guards=tuple(guards),
    )


def watching(r: Release) -> list[Effect]:
    """After any save of a live release: the schedule reads it as it now stands (its stage,
    its guards' last samples), keeping its cadence."""
    return [Watch(r)] if r.active else []


_SLACK = timedelta(milliseconds=500)  # a tick a hair early still samples


def evaluate(
    r: Release,
    readings: Mapping[str, Reading],
    *,
    at: datetime,
    now: datetime,
    held_by: Sequence[Text] = (),
    decision_owners: Sequence[str] = (),
) -> Result:
    """Record the readings taken at ``at`` and act on what they show. A stop-tier breach
    calls ``decision_owners`` (the people the plan names to decide)."""
    states = dict(r.guards)
    for guard in r.plan.guards:
        if guard.name in readings:
            states[guard.name] = rules.observe(
                guard,
                states.get(guard.name),
                readings[guard.name],
                at,
                stage_start=r.stage_started_at,
            )
    current = replace(r, guards=states)
    result = Result(current)
    if not current.active:
        return result
    for guard in r.plan.guards:
        state = states.get(guard.name)
        if state is None or state.acted or guard.name not in readings:
            continue
        if rules.sustained_breach(guard, state):
            states[guard.name] = replace(state, acted=True)
            current = replace(result.release, guards=states)
            result.release = current
            evidence = t(
                "release.guard_evidence",
                guard=guard.name,
                value=guard.show(state.value),
                threshold=guard.threshold,
                since=state.breach_since,
                window=guard.window,
            )
            if guard.action is GuardAction.ROLLBACK:
                return chain(
                    result,
                    rollback(
                        current,
                        actor=BOT,
                        now=now,
                        reason=t("release.reason.guard", guard=guard.name, reason=state.reason),
                        evidence=evidence,
                    ),
                )
            if guard.action is GuardAction.STOP:
                _stop(result, current, guard.name, state.reason, evidence, now, decision_owners)
            elif guard.action is GuardAction.PAUSE and current.state is not S.PAUSED:
                chain(
                    result,
                    pause(
                        current,
                        actor=BOT,
                        now=now,
                        reason=t(
                            "release.reason.guard_for",
                            guard=guard.name,
                            reason=state.reason,
                            window=guard.window,
                        ),
                    ),
                )
                result.effects.append(
                    Post(r.channel, Message.of(evidence, severity=Severity.WARNING))
                )
            elif guard.action is GuardAction.WARN:
                text = t("release.guard_warning", service=r.service)
                result.effects.append(
                    Post(r.channel, Message.of(text, evidence, severity=Severity.WARNING))
                )
        elif rules.sustained_silence(guard, state):
            states[guard.name] = replace(state, acted=True)
            result.release = replace(result.release, guards=states)
            if result.release.state is not S.PAUSED:
                reason = t(
                    "release.reason.guard_silent",
                    guard=guard.name,
                    verdict=rules.verdict_name(state.verdict),
                    window=guard.max_unknown,
                    reason=state.reason,
                )
                paused = pause(result.release, actor=BOT, now=now, reason=reason)
                # Said once: this post is the pause's announcement, with its buttons.
                paused.effects = [e for e in paused.effects if not isinstance(e, Post)]
                chain(result, paused)
                said = t(
                    "release.no_evidence",
                    service=r.service,
                    guard=guard.name,
                    verdict=rules.verdict_name(state.verdict),
                    reason=state.reason,
                    since=state.unknown_since,
                )
                result.effects.append(
                    Post(
                        r.channel,
                        Message(
                            blocks=(said,),
                            severity=Severity.WARNING,
                            buttons=buttons(result.release),
                        ),
                    )
                )
    return _maybe_move_on(result, now=now, held_by=held_by)


def _stop(
    result: Result,
    r: Release,
    guard: str,
    reason: Text,
    evidence: Text,
    now: datetime,
    owners: Sequence[str],
) -> None:
    """Seed 003 §8.2 应急情况1: stop the gray release at once, call the decision owners
    to the core team's 15-minute meeting (roll back or fix, then tell users)."""
    if r.state is S.PAUSED:
        result.effects.append(Post(r.channel, Message.of(evidence, severity=Severity.WARNING)))
        return
    paused = pause(
        r, actor=BOT, now=now, reason=t("release.reason.guard", guard=guard, reason=reason)
    )
    # One post says it all: the pause's own announcement is folded into it.
    paused.effects = [e for e in paused.effects if not isinstance(e, Post)]
    chain(result, paused)
    stopped = t("release.stopped", service=r.service, version=r.version, percent=r.percent)
    meeting = t(
        "release.stop_meeting",
        service=r.service,
        by=now + MEETING,
        owners=mentioned(owners),
    )
    message = Message(
        blocks=(stopped, evidence, meeting),
        severity=Severity.DANGER,
        buttons=buttons(result.release),
    )
    # The post calls the decision owners by name; only those not in the channel get a copy.
    result.effects.append(Post(r.channel, replace(message, mentions=tuple(owners))))
    result.effects += [DirectMessage(owner, message, unless_in=(r.channel,)) for owner in owners]


# Seed 003 §8.2: the core team meets within 15 minutes of a stop.
MEETING = timedelta(minutes=15)


def _maybe_move_on(result: Result, *, now: datetime, held_by: Sequence[Text] = ()) -> Result:
    """A soaked stage moves on by itself when the plan says so, or completes when final."""
    r = result.release
    if r.state is not S.IN_STAGE or r.soak_left(now) is None or r.soak_left(now):
        return result
    if blockers(r, now=now, held_by=held_by):
        return result
    if r.final_stage:
        return chain(result, complete(r, now=now))
    if r.plan.auto_promote:
        return chain(
            result,
            advance(
                r,
                r.stage + 1,
                actor=BOT,
                now=now,
                forced=[],
                reason=t("release.reason.auto_promote"),
            ),
        )
    return result


def soak_over(r: Release, *, now: datetime, held_by: Sequence[Text] = ()) -> Result:
    """The stage's soak has elapsed: move on if allowed, or say what still blocks."""
    result = _maybe_move_on(Result(r), now=now, held_by=held_by)
    if result.release is not r or r.state is not S.IN_STAGE:
        return result
    found = blockers(r, now=now, held_by=held_by)
    if r.final_stage:
        text = t("release.final_soak_over", service=r.service)
    else:
        text = t("release.soak_over", service=r.service, stage=r.stage_name, percent=r.percent)
    blocks = (text, *found) if found else (text, t("release.ready", service=r.service))
    result.effects.append(Post(r.channel, Message(blocks=blocks, buttons=buttons(r))))
    return result
