"""A release prepared before its first traffic, pure: the plan's required pre-launch checks
(seed 003 §10.1) gate the start, ``go`` moves the first stage's traffic once they are
ticked, and nothing is watched before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from playbooks.effects import ArmTimer, Conversation, Post, SetTraffic, Watch
from playbooks.errors import InvalidTransition
from playbooks.launch import state as launch_state
from playbooks.launch import timers as launch_timers
from playbooks.launch.plan import ChecklistItem, LaunchPlan, RunbookStep, launch_problems
from playbooks.launch.state import LaunchState
from playbooks.messages import t
from playbooks.releases import machine
from playbooks.releases import watch as release_watch
from playbooks.releases.machine import Move, Refused, Release, ReleaseState
from playbooks.releases.plan import Plan, Stage, TrafficKind

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
STAGES = (Stage("internal", 1, 2 * H), Stage("small", 5, 4 * H), Stage("full", 100))
CHECKLIST = (
    ChecklistItem("backup tested", required=True),
    ChecklistItem("change log"),
    ChecklistItem("rollback script ready", required=True),
    ChecklistItem("support staffed", required=True, before="full"),
)
LAUNCH = LaunchPlan(
    checklist=CHECKLIST,
    progress_every=timedelta(minutes=30),
    runbook=(
        RunbookStep(timedelta(minutes=-60), "backups taken", "devops"),
        RunbookStep(timedelta(minutes=75), "gray release configured", "owner"),
    ),
)
PLAN = Plan(name="launch", stages=STAGES, launch=LAUNCH)


def new(plan: Plan = PLAN, traffic: TrafficKind = TrafficKind.SIMULATED) -> Release:
    return Release(
        id=4,
        service="miniapp",
        version="2.1.0",
        plan=plan,
        state=ReleaseState.PENDING,
        stage=-1,
        percent=0.0,
        owner="alice",
        attempt=1,
        channel=Conversation("console", "#releases"),
        traffic=traffic,
        metrics="simulated",
        started_at=T0,
    )


def prepared(plan: Plan = PLAN, traffic: TrafficKind = TrafficKind.SIMULATED) -> Release:
    return machine.start(new(plan, traffic), now=T0).release


def ticked(r: Release, *numbers: int) -> LaunchState:
    state = LaunchState()
    for number in numbers:
        state = launch_state.check(state, r, number=number, by="bob", at=T0, note="")
    return state


def test_a_plan_with_required_checks_before_its_first_stage_starts_prepared() -> None:
    result = machine.start(new(), now=T0)
    r = result.release
    assert (r.state, r.stage, r.percent, r.stage_started_at) == (
        ReleaseState.PREPARED,
        -1,
        0.0,
        None,
    )
    # No traffic, no soak, nothing watched: only the news, with Go and Checklist buttons.
    assert [type(e) for e in result.effects] == [Post]
    assert result.reply is not None
    assert result.reply.blocks[0].key == "release.prepared"
    assert [b.command for b in result.reply.buttons] == [
        "/release go miniapp",
        "/release checklist miniapp",
    ]
    [entry] = result.history
    assert (entry.move, entry.to_state, entry.to_percent) == (Move.START, r.state, 0.0)
    # The guards read nothing of it and the schedule keeps no entry for it.
    assert not r.active
    assert release_watch.tick(r, now=T0 + H) == []
    assert release_watch.watching(r) == []


def test_plans_without_such_checks_start_at_once_as_before() -> None:
    later = replace(
        LAUNCH, checklist=(ChecklistItem("support staffed", required=True, before="small"),)
    )
    optional = replace(LAUNCH, checklist=(ChecklistItem("change log"),))
    for launch in (later, optional, LaunchPlan()):
        plan = replace(PLAN, launch=launch)
        assert not plan.prepares
        result = machine.start(new(plan), now=T0)
        assert (result.release.state, result.release.percent) == (ReleaseState.IN_STAGE, 1)
        assert SetTraffic("miniapp", "2.1.0", 1, "internal", "release-4-a1-s0") in result.effects


def test_a_required_items_gate_defaults_to_the_first_stage() -> None:
    assert [PLAN.gate_of(i) for i in CHECKLIST] == [0, 0, 0, 2]
    assert PLAN.prepares
    # Naming the first stage is allowed now: the checklist exists from the start.
    named = replace(LAUNCH, checklist=(ChecklistItem("x", required=True, before="internal"),))
    assert launch_problems(named, stages=("internal", "small", "full")) == []
    assert replace(PLAN, launch=named).prepares


def test_go_is_refused_with_one_sentence_naming_the_open_checks() -> None:
    r = prepared()
    found = launch_state.go_blockers(ticked(r, 2), r)
    assert [text.key for text in found] == ["checklist.go_refused"]
    assert found[0].params["count"] == 2
    assert found[0].params["items"].params["text"] == "1. backup tested; 3. rollback script ready"
    with pytest.raises(Refused) as refused:
        machine.go(r, actor="bob", now=T0 + H, gates=found)
    assert refused.value.text == found[0]
    assert refused.value.details == ()
    # The item gated at the last stage never holds the first traffic.
    assert launch_state.go_blockers(ticked(r, 1, 3), r) == []


def test_go_moves_the_first_stage_traffic_and_starts_the_watch() -> None:
    r = prepared()
    at = T0 + 75 * timedelta(minutes=1)
    result = machine.go(r, actor="bob", now=at, gates=[])
    after = result.release
    assert (after.state, after.stage, after.percent, after.stage_started_at) == (
        ReleaseState.IN_STAGE,
        0,
        1,
        at,
    )
    assert SetTraffic("miniapp", "2.1.0", 1, "internal", "release-4-a1-s0") in result.effects
    assert Watch(after, start=at) in result.effects
    soaks = [e.due_at for e in result.effects if isinstance(e, ArmTimer)]
    assert soaks == [at + 2 * H]
    [entry] = result.history
    assert (entry.move, entry.actor, entry.from_state, entry.to_state) == (
        Move.GO,
        "bob",
        ReleaseState.PREPARED,
        ReleaseState.IN_STAGE,
    )
    assert result.reply is not None
    assert result.reply.blocks[0] == t(
        "release.went", service="miniapp", version="2.1.0", percent=1, stage="internal", actor="bob"
    )


def test_a_manual_backend_waits_for_the_person_after_go() -> None:
    r = prepared(traffic=TrafficKind.MANUAL)
    after = machine.go(r, actor="bob", now=T0, gates=[]).release
    assert (after.state, after.percent, after.stage_started_at) == (ReleaseState.PENDING, 1, None)


def test_only_go_and_abort_leave_prepared() -> None:
    r = prepared()
    with pytest.raises(InvalidTransition):
        machine.rollback(r, actor="bob", now=T0, reason="x")
    with pytest.raises(InvalidTransition):
        machine.pause(r, actor="bob", now=T0, reason="x")
    with pytest.raises(Refused) as refused:
        machine.promote(r, actor="bob", now=T0)
    assert refused.value.text == t("release.go_first", service="miniapp")
    live = machine.go(r, actor="bob", now=T0, gates=[]).release
    with pytest.raises(InvalidTransition):
        machine.go(live, actor="bob", now=T0, gates=[])
    aborted = machine.abort(r, actor="carol", now=T0, reason="postponed")
    assert aborted.release.state is ReleaseState.ABORTED
    assert not [e for e in aborted.effects if isinstance(e, SetTraffic)]  # nothing to move back


def test_the_runbook_counts_from_the_start_and_progress_from_the_go() -> None:
    start = machine.start(new(), now=T0)
    armed = launch_timers.after_moves(start.release, start.history)
    kinds = sorted(e.kind for e in armed if isinstance(e, ArmTimer))
    # T+1:15 is announced; T-1h is listed, not announced late; no progress while prepared.
    assert kinds == [launch_timers.STEP_KIND]
    at = T0 + 75 * timedelta(minutes=1)
    went = machine.go(start.release, actor="bob", now=at, gates=[])
    armed = launch_timers.after_moves(went.release, went.history)
    progress = [e for e in armed if isinstance(e, ArmTimer)]
    assert [(e.kind, e.due_at) for e in progress] == [
        (launch_timers.PROGRESS_KIND, at + timedelta(minutes=30))
    ]
