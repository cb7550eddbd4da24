"""The release state machine, pure, on explicit times: stages, soaks, guards, rollbacks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import Translator
from playbooks.effects import (
    ArmTimer,
    Conversation,
    DirectMessage,
    Measure,
    Post,
    SetTraffic,
    Unwatch,
    Watch,
)
from playbooks.errors import InvalidTransition
from playbooks.messages import t, text_to_str
from playbooks.people import BOT
from playbooks.releases import machine, watch
from playbooks.releases.guards import Reading
from playbooks.releases.machine import (
    ACTIVE,
    OPEN,
    TRANSITIONS,
    Move,
    Refused,
    Release,
    ReleaseState,
)
from playbooks.releases.plan import Guard, GuardAction, Plan, Stage, TrafficKind, plan_problems

ENGLISH = Translator("en", UTC)  # reasons are catalog text: read them as an English reader does

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
M = timedelta(minutes=1)
PLAN = Plan(
    name="test",
    stages=(
        Stage("canary", 10, timedelta(minutes=30)),
        Stage("early", 30, timedelta(hours=1)),
        Stage("half", 50),
        Stage("full", 100),
    ),
    guards=(
        Guard("error_rate", "q1", 5 * M, GuardAction.ROLLBACK, max=0.05),
        Guard("p99", "q2", 5 * M, GuardAction.PAUSE, max=1000),
    ),
)


def new(plan: Plan = PLAN, traffic: TrafficKind = TrafficKind.SIMULATED) -> Release:
    return Release(
        id=7,
        service="web",
        version="1.4.2",
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


def started(plan: Plan = PLAN) -> Release:
    return machine.start(new(plan), now=T0).release


def feed(
    r: Release, values: dict[str, float], *, start: datetime, until: datetime
) -> machine.Result:
    """Sample every 30 s from ``start`` to ``until`` with fixed values; the last result."""
    at = start
    result = machine.Result(r)
    while at <= until:
        result = watch.evaluate(
            result.release, {k: Reading.of(v) for k, v in values.items()}, at=at, now=at
        )
        if not result.release.active:
            return result
        at += timedelta(seconds=30)
    return result


GOOD = {"error_rate": 0.01, "p99": 300.0}


def test_the_table_only_leaves_open_states_and_rollback_is_reachable_from_all_of_them() -> None:
    for (state, move), target in TRANSITIONS.items():
        assert state in OPEN or state is ReleaseState.ROLLED_BACK, (state, move, target)
    for state in ACTIVE:
        assert TRANSITIONS[(state, Move.ROLLBACK)] is ReleaseState.ROLLED_BACK
    # A prepared release moved no traffic: nothing to roll back, only go or abort.
    assert {m for s, m in TRANSITIONS if s is ReleaseState.PREPARED} == {Move.GO, Move.ABORT}


def test_start_enters_the_first_stage_at_once_with_traffic_timers_and_a_post() -> None:
    result = machine.start(new(), now=T0)
    r = result.release
    assert (r.state, r.stage, r.percent, r.stage_started_at) == (ReleaseState.IN_STAGE, 0, 10, T0)
    traffic = [e for e in result.effects if isinstance(e, SetTraffic)]
    assert traffic == [SetTraffic("web", "1.4.2", 10, "canary", "release-7-a1-s0")]
    armed = {e.kind: e.due_at for e in result.effects if isinstance(e, ArmTimer)}
    assert armed == {machine.SOAK_KIND: T0 + 30 * M}
    assert Watch(r, start=T0) in result.effects  # the guards are read at once
    assert any(isinstance(e, Post) for e in result.effects)


def test_an_early_promote_is_refused_with_every_reason() -> None:
    r = feed(started(), GOOD, start=T0, until=T0 + 10 * M).release
    with pytest.raises(Refused) as refused:
        machine.promote(r, actor="alice", now=T0 + 10 * M)
    keys = [d.key for d in refused.value.details]
    assert keys == ["release.blocker.soak"]
    fresh = started()
    with pytest.raises(Refused) as unread:
        machine.promote(fresh, actor="alice", now=T0 + M)
    assert [d.key for d in unread.value.details] == [
        "release.blocker.soak",
        "release.blocker.guard_unread",
        "release.blocker.guard_unread",
    ]


def test_promote_after_a_clean_soak_moves_one_stage_and_rearms_the_soak() -> None:
    r = feed(started(), GOOD, start=T0, until=T0 + 30 * M).release
    result = machine.promote(r, actor="bob", now=T0 + 30 * M)
    assert (result.release.stage, result.release.percent) == (1, 30)
    assert result.history[0].move is Move.PROMOTE
    assert next(e for e in result.effects if isinstance(e, SetTraffic)).key == "release-7-a1-s1"
    soak = next(e for e in result.effects if isinstance(e, ArmTimer))
    assert soak.due_at == T0 + 30 * M + timedelta(hours=1)


def test_a_blip_in_the_soak_blocks_promotion_until_forced() -> None:
    r = feed(started(), GOOD, start=T0, until=T0 + 10 * M).release
    r = watch.evaluate(
        r,
        {"error_rate": Reading.of(0.09), "p99": Reading.of(300)},
        at=T0 + 10 * M + timedelta(seconds=30),
        now=T0,
    ).release
    r = feed(r, GOOD, start=T0 + 11 * M, until=T0 + 30 * M).release
    with pytest.raises(Refused) as refused:
        machine.promote(r, actor="alice", now=T0 + 30 * M)
    assert [d.key for d in refused.value.details] == ["release.blocker.guard_recent"]
    forced = machine.promote(r, actor="alice", now=T0 + 30 * M, force_reason="known blip")
    assert forced.release.percent == 30
    assert ENGLISH(forced.history[0].reason) == "forced: known blip"


def test_promote_to_a_lower_percent_says_use_rollback_and_past_the_end_is_refused() -> None:
    r = feed(started(), GOOD, start=T0, until=T0 + 30 * M).release
    r = machine.promote(r, actor="alice", now=T0 + 30 * M, to="50%", force_reason="skip").release
    with pytest.raises(Refused) as lower:
        machine.promote(r, actor="alice", now=T0 + 31 * M, to="10%")
    assert lower.value.text.key == "release.to_lower"
    with pytest.raises(Refused) as unknown:
        machine.promote(r, actor="alice", now=T0 + 31 * M, to="75%")
    assert unknown.value.text.key == "release.no_such_percent"
    done = machine.promote(r, actor="alice", now=T0 + 31 * M, to="full", force_reason="go")
    assert done.release.state is ReleaseState.COMPLETED
    assert Unwatch(7) in done.effects


def test_a_sustained_breach_rolls_back_pages_the_owner_and_stops_watching() -> None:
    r = feed(started(), GOOD, start=T0, until=T0 + 5 * M).release
    bad = {"error_rate": 0.08, "p99": 300.0}
    before = feed(r, bad, start=T0 + 5 * M + timedelta(seconds=30), until=T0 + 10 * M)
    assert before.release.state is ReleaseState.IN_STAGE  # 4m30s of breach: nothing yet
    result = watch.evaluate(
        before.release,
        {k: Reading.of(v) for k, v in bad.items()},
        at=T0 + 10 * M + timedelta(seconds=30),
        now=T0 + 10 * M + timedelta(seconds=31),
    )
    assert result.release.state is ReleaseState.ROLLED_BACK
    assert result.release.percent == 0
    traffic = [e for e in result.effects if isinstance(e, SetTraffic)]
    assert traffic == [
        SetTraffic(
            "web",
            "1.4.2",
            0,
            "rollback",
            "release-7-a1-rollback",
            rollback=True,
            reason=text_to_str(
                t(
                    "release.reason.guard",
                    guard="error_rate",
                    reason=t("guard.why.breach", value="0.08", threshold="> 0.05"),
                )
            ),
        )
    ]
    assert any(isinstance(e, DirectMessage) and e.person == "alice" for e in result.effects)
    assert Unwatch(7) in result.effects
    assert result.history[0].actor == BOT
    assert watch.tick(result.release, now=T0 + 11 * M) == []


def test_a_pause_guard_pauses_and_resume_restarts_the_soak() -> None:
    slow = {"error_rate": 0.01, "p99": 2000.0}
    result = feed(started(), slow, start=T0, until=T0 + 5 * M)
    assert result.release.state is ReleaseState.PAUSED
    assert "p99" in ENGLISH(result.release.paused_reason)
    resumed = machine.resume(result.release, actor="alice", now=T0 + 20 * M)
    assert resumed.release.state is ReleaseState.IN_STAGE
    assert resumed.release.stage_started_at == T0 + 20 * M


def test_no_data_for_max_unknown_pauses_and_never_promotes() -> None:
    silent = machine.Result(started())
    at = T0
    while at <= T0 + 5 * M:
        silent = watch.evaluate(
            silent.release,
            {"error_rate": Reading(no_data="no series"), "p99": Reading.of(100)},
            at=at,
            now=at,
        )
        at += timedelta(seconds=30)
    assert silent.release.state is ReleaseState.PAUSED
    # The automatic pause is said once: the post that says why, with the pause's buttons.
    posts = [e for e in silent.effects if isinstance(e, Post)]
    pauses = ("release.no_evidence", "release.paused")
    [said] = [p for p in posts if p.message.blocks[0].key in pauses]
    assert said.message.blocks[0].key == "release.no_evidence"
    assert [b.command for b in said.message.buttons][:1] == ["/release resume web"]


def test_errors_never_promote_even_with_auto_promote() -> None:
    plan = replace(PLAN, auto_promote=True)
    r = started(plan)
    result = machine.Result(r)
    at = T0
    while at <= T0 + 40 * M:
        readings = {
            "error_rate": Reading(error="timeout") if at.minute % 4 == 0 else Reading.of(0.01),
            "p99": Reading.of(100),
        }
        result = watch.evaluate(result.release, readings, at=at, now=at)
        at += timedelta(seconds=30)
    assert result.release.stage == 0


def test_auto_promote_moves_on_when_the_soak_is_clean() -> None:
    plan = replace(PLAN, auto_promote=True)
    result = feed(started(plan), GOOD, start=T0, until=T0 + 30 * M)
    assert result.release.stage == 1
    assert result.history[-1].actor == BOT


def test_manual_traffic_waits_for_applied_before_the_soak_counts() -> None:
    result = machine.start(new(traffic=TrafficKind.MANUAL), now=T0)
    r = result.release
    assert r.state is ReleaseState.PENDING
    assert not any(isinstance(e, SetTraffic) for e in result.effects)
    with pytest.raises(Refused):
        machine.promote(r, actor="alice", now=T0 + 40 * M)
    applied = machine.applied(r, actor="bob", now=T0 + 5 * M)
    assert applied.release.state is ReleaseState.IN_STAGE
    assert applied.release.stage_started_at == T0 + 5 * M


def test_rollback_then_retry_starts_a_fresh_attempt_with_new_keys() -> None:
    r = machine.rollback(started(), actor="bob", now=T0 + M, reason="bad").release
    with pytest.raises(InvalidTransition):
        machine.pause(r, actor="bob", now=T0 + 2 * M, reason="")
    again = machine.retry(r, actor="bob", now=T0 + 3 * M)
    assert (again.release.attempt, again.release.stage, again.release.guards) == (2, 0, {})
    assert next(e for e in again.effects if isinstance(e, SetTraffic)).key == "release-7-a2-s0"


def test_approvals_are_needed_and_the_owner_cannot_give_them() -> None:
    plan = replace(
        PLAN, stages=(PLAN.stages[0], replace(PLAN.stages[1], approvals=1), *PLAN.stages[2:])
    )
    r = feed(started(plan), GOOD, start=T0, until=T0 + 30 * M).release
    with pytest.raises(Refused) as refused:
        machine.promote(r, actor="alice", now=T0 + 30 * M)
    assert [d.key for d in refused.value.details] == ["release.blocker.approvals"]
    with pytest.raises(Refused):
        machine.approve(r, actor="alice", now=T0 + 30 * M)
    r = machine.approve(r, actor="bob", now=T0 + 30 * M).release
    assert machine.promote(r, actor="alice", now=T0 + 30 * M).release.percent == 30


def test_tick_measures_only_the_guards_due() -> None:
    r = started()
    [measure] = watch.tick(r, now=T0)
    assert isinstance(measure, Measure)
    assert [g.name for g in measure.guards] == ["error_rate", "p99"]
    read = feed(r, GOOD, start=T0, until=T0).release
    assert watch.tick(read, now=T0 + timedelta(seconds=10)) == []
    [again] = watch.tick(read, now=T0 + timedelta(seconds=30))
    assert isinstance(again, Measure)
    assert [g.name for g in again.guards] == ["error_rate", "p99"]


def test_every_save_of_a_live_release_refreshes_what_is_watched() -> None:
    r = started()
    assert watch.watching(r) == [Watch(r)]
    done = machine.abort(r, actor="alice", now=T0, reason="x").release
    assert watch.watching(done) == []


@pytest.mark.parametrize(
    ("stages", "problem"),
    [
        ((Stage("a", 30), Stage("b", 10), Stage("c", 100)), "strictly increasing"),
        ((Stage("a", 10), Stage("b", 50)), "100%"),
        ((Stage("a", 0), Stage("b", 100)), "between"),
        ((Stage("a", 10), Stage("A", 100)), "named twice"),
    ],
)
def test_plan_problems_are_found(stages: tuple[Stage, ...], problem: str) -> None:
    found = plan_problems(Plan("p", stages))
    assert any(problem in sentence for _, sentence in found), found


def test_a_guard_without_a_window_is_a_plan_problem() -> None:
    plan = Plan("p", (Stage("a", 100),), (Guard("g", "q", timedelta(0), GuardAction.WARN, max=1),))
    assert ("guards[0].for", "a guard needs a window longer than zero") in plan_problems(plan)


def test_manual_traffic_at_the_final_stage_completes_once_applied() -> None:
    r = machine.applied(
        machine.start(new(traffic=TrafficKind.MANUAL), now=T0).release, actor="bob", now=T0
    )
    r = feed(r.release, GOOD, start=T0, until=T0 + 30 * M).release
    r = machine.promote(r, actor="alice", now=T0 + 30 * M, to="full", force_reason="go").release
    assert (r.state, r.percent) == (ReleaseState.PENDING, 100)
    done = machine.applied(r, actor="bob", now=T0 + 31 * M)
    assert done.release.state is ReleaseState.COMPLETED
    assert [h.move for h in done.history] == [Move.APPLIED, Move.COMPLETE]


def test_approving_a_stage_that_needs_no_approval_is_refused() -> None:
    r = started()
    with pytest.raises(Refused) as refused:
        machine.approve(r, actor="bob", now=T0)
    assert refused.value.text.key == "release.no_approval_needed"
