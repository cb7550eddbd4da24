"""Checklist and Go/No-Go gating, pure: which stage a required item holds, and when."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from playbooks.effects import ArmTimer, CancelTimer, Conversation, Post
from playbooks.launch import state as launch_state
from playbooks.launch import timers as launch_timers
from playbooks.launch.gonogo import assess, parse_values
from playbooks.launch.plan import ChecklistItem, FollowUp, GoNoGoPolicy, LaunchPlan, RunbookStep
from playbooks.launch.state import LaunchState, Unknown
from playbooks.releases.machine import HistoryEntry, Move, Refused, Release, ReleaseState
from playbooks.releases.plan import Plan, Stage, TrafficKind

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LAUNCH = LaunchPlan(
    checklist=(
        ChecklistItem("backup tested", required=True),
        ChecklistItem("change log"),
        ChecklistItem("support staffed", required=True, before="full"),
    ),
    gonogo=GoNoGoPolicy(required=True),
    progress_every=timedelta(minutes=30),
    followups=(FollowUp(1, ("log in works",)), FollowUp(7, ("retention",))),
    runbook=(RunbookStep(timedelta(minutes=30), "backup database", "owner"),),
)
PLAN = Plan(
    name="launch",
    stages=(
        Stage("internal", 1, timedelta(hours=2)),
        Stage("small", 5, timedelta(hours=4)),
        Stage("full", 100),
    ),
    launch=LAUNCH,
)


def release(stage: int = 0) -> Release:
    return Release(
        id=3,
        service="miniapp",
        version="2.0.0",
        plan=PLAN,
        state=ReleaseState.IN_STAGE,
        stage=stage,
        percent=PLAN.stages[stage].percent,
        owner="alice",
        attempt=1,
        channel=Conversation("console", "#releases"),
        traffic=TrafficKind.SIMULATED,
        metrics="simulated",
        started_at=T0,
        stage_started_at=T0,
    )


def keys(found: list) -> list[str]:  # type: ignore[type-arg]
    return [text.key for text in found]


def test_a_required_item_holds_the_first_promotion_until_it_is_ticked() -> None:
    r, state = release(), LaunchState()
    assert keys(launch_state.blockers(state, r, target=1)) == ["checklist.blocker"]
    ticked = launch_state.check(state, r, number=1, by="bob", at=T0, note="restored")
    assert launch_state.blockers(ticked, r, target=1) == []
    assert ticked.checks[1].by == "bob"
    assert ticked.checks[1].note == "restored"
    # The optional item never blocks; the "before: full" one only for the final stage.
    assert launch_state.open_items(ticked, r)[0][0] == 2


def test_going_straight_to_the_final_stage_needs_every_required_item_and_a_go() -> None:
    r = release()
    found = launch_state.blockers(LaunchState(), r, target=2)
    assert keys(found) == ["checklist.blocker", "checklist.blocker", "gonogo.blocker.none"]


def test_no_go_blocks_the_final_stage_review_until_approved_go_lets_it_pass() -> None:
    r = release(stage=1)
    state = LaunchState(checks={1: launch_state.Mark("bob", T0), 3: launch_state.Mark("bob", T0)})
    policy = PLAN.launch.gonogo

    def with_scores(line: str) -> LaunchState:
        a = assess(parse_values(line.split(), policy), policy, by="carol", at=T0)
        return replace(state, assessment=a)

    no_go = with_scores("functional=90 performance=92 stability=99.6 satisfaction=70 blockers=0")
    assert keys(launch_state.blockers(no_go, r, target=2)) == ["gonogo.blocker.no_go"]
    review = with_scores("functional=96 performance=92 stability=98 satisfaction=85 blockers=0")
    # By default a REVIEW is fixed and assessed again (seed 000), never approved through.
    assert keys(launch_state.blockers(review, r, target=2)) == ["gonogo.blocker.review_fix"]
    # A plan that switches approval on asks a release manager instead.
    lenient = GoNoGoPolicy(required=True, approve_review=True)
    r_lenient = replace(r, plan=replace(PLAN, launch=replace(LAUNCH, gonogo=lenient)))
    assert keys(launch_state.blockers(review, r_lenient, target=2)) == ["gonogo.blocker.review"]
    assert review.assessment is not None
    approved = replace(review, assessment=replace(review.assessment, approved_by="alice"))
    assert launch_state.blockers(approved, r_lenient, target=2) == []
    go = with_scores("functional=96 performance=92 stability=99.6 satisfaction=85 blockers=0")
    assert launch_state.blockers(go, r, target=2) == []
    # The stage before the last does not ask for a Go/No-Go.
    assert launch_state.blockers(no_go, release(stage=0), target=1) == []


def test_unknown_items_and_double_ticks_are_refused() -> None:
    r, state = release(), LaunchState()
    with pytest.raises(Unknown):
        launch_state.check(state, r, number=4, by="bob", at=T0, note="")
    with pytest.raises(Unknown):
        launch_state.check(state, r, number=0, by="bob", at=T0, note="")
    ticked = launch_state.check(state, r, number=2, by="bob", at=T0, note="")
    with pytest.raises(Refused):
        launch_state.check(ticked, r, number=2, by="carol", at=T0, note="")
    with pytest.raises(Refused):
        launch_state.uncheck(state, r, number=2)
    assert launch_state.uncheck(ticked, r, number=2) == state
    assert launch_state.state_from_json(launch_state.state_to_json(ticked)) == ticked


def _entry(move: Move, at: datetime) -> HistoryEntry:
    return HistoryEntry(at, "alice", move, None, ReleaseState.IN_STAGE, 0, 1, "internal")


def test_moves_arm_and_stop_the_launch_timers() -> None:
    r = release()
    started = launch_timers.after_moves(r, [_entry(Move.START, T0)])
    armed = {e.key: e.due_at for e in started if isinstance(e, ArmTimer)}
    assert armed == {
        "launch:3:progress": T0 + timedelta(minutes=30),
        "launch:3:step:1": T0 + timedelta(minutes=30),
    }
    done_at = T0 + timedelta(hours=6)
    completed = launch_timers.after_moves(r, [_entry(Move.COMPLETE, done_at)])
    assert CancelTimer("launch:3:progress") in completed
    followups = sorted(e.due_at for e in completed if isinstance(e, ArmTimer))
    # The launch day is day 1 (seed 003 §10.2): its guards are read at completion, day 7's
    # six days later; each posts a minute after its reading.
    assert followups == [done_at, done_at + timedelta(days=6)]


def test_a_progress_post_lists_open_items_and_arms_the_next() -> None:
    r = release()
    now = T0 + timedelta(minutes=30)
    effects = launch_timers.progress(r, LaunchState(), now=now, before={})
    post = next(e for e in effects if isinstance(e, Post))
    assert post.message.blocks[0].key == "launch.progress_header"
    assert any(f.label.key == "launch.field.open_items" for f in post.message.fields)
    assert any(f.label.key == "launch.field.overdue_steps" for f in post.message.fields) is False
    nxt = next(e for e in effects if isinstance(e, ArmTimer))
    assert nxt.due_at == now + timedelta(minutes=30)
    assert (
        launch_timers.progress(
            replace(r, state=ReleaseState.COMPLETED), LaunchState(), now=now, before={}
        )
        == []
    )


def test_a_rollback_stops_the_runbook_and_a_retry_re_arms_the_steps_ahead() -> None:
    r = release()
    rolled = launch_timers.after_moves(r, [_entry(Move.ROLLBACK, T0 + timedelta(minutes=10))])
    assert CancelTimer("launch:3:step:1") in rolled
    # A step timer that fires anyway (armed before) says nothing while rolled back.
    stopped = replace(r, state=ReleaseState.ROLLED_BACK)
    assert launch_timers.step_due(stopped, LaunchState(), number=1, owners=["alice"]) == []
    retried = launch_timers.after_moves(r, [_entry(Move.RETRY, T0 + timedelta(minutes=20))])
    armed = {e.key: e.due_at for e in retried if isinstance(e, ArmTimer)}
    assert armed["launch:3:step:1"] == T0 + timedelta(minutes=30)
    # Past its time at the retry: not announced late.
    late = launch_timers.after_moves(r, [_entry(Move.RETRY, T0 + timedelta(hours=1))])
    assert "launch:3:step:1" not in {e.key for e in late if isinstance(e, ArmTimer)}
