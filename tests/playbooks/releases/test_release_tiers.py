"""Seed 003's two guard tiers and per-stage promotion targets, pure on explicit times:
a stop-tier breach pauses and calls the decision owners, the rollback tier rolls back,
a stage's target not held refuses promotion, and stages are not skipped without force."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import Translator
from playbooks.effects import Conversation, DirectMessage, Post
from playbooks.releases import machine, watch
from playbooks.releases.guards import Reading
from playbooks.releases.machine import Refused, Release, ReleaseState
from playbooks.releases.plan import Guard, GuardAction, Plan, Stage, TrafficKind

ENGLISH = Translator("en", UTC)  # reasons are catalog text: read them as an English reader does

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
M = timedelta(minutes=1)
S30 = timedelta(seconds=30)
PLAN = Plan(
    name="tiers",
    stages=(
        Stage("internal", 1, 2 * 60 * M, targets=(("crash", 0.001),)),
        Stage("small", 5, 4 * 60 * M, targets=(("crash", 0.0005),)),
        Stage("large", 20, 24 * 60 * M, targets=(("crash", 0.0001),)),
        Stage("full", 100),
    ),
    guards=(
        Guard("crash_stop", "q", S30, GuardAction.STOP, max=0.001, percent=True),
        Guard("crash", "q", 2 * M, GuardAction.ROLLBACK, max=0.005, percent=True),
    ),
    decision=("owner", "release-manager"),
)


def started() -> Release:
    fresh = Release(
        id=3,
        service="miniapp",
        version="2.0.0",
        plan=PLAN,
        state=ReleaseState.PENDING,
        stage=-1,
        percent=0.0,
        owner="bob",
        attempt=1,
        channel=Conversation("console", "#releases"),
        traffic=TrafficKind.SIMULATED,
        metrics="simulated",
        started_at=T0,
    )
    return machine.start(fresh, now=T0).release


def feed(
    r: Release, crash: float, *, start: datetime, until: datetime, owners: tuple[str, ...] = ()
) -> machine.Result:
    """Every 30 s from ``start`` to ``until``, both guards reading ``crash``."""
    result = machine.Result(r)
    at = start
    while at <= until:
        reading = Reading.of(crash)
        result = watch.evaluate(
            result.release,
            {"crash_stop": reading, "crash": reading},
            at=at,
            now=at,
            decision_owners=owners,
        )
        at += S30
    return result


def test_thresholds_read_as_the_plan_wrote_them() -> None:
    assert PLAN.guards[0].threshold == "> 0.1%"
    assert PLAN.guards[1].show(0.006) == "0.6%"
    assert Guard("p99", "q", M, GuardAction.PAUSE, max=500).threshold == "> 500"


def test_0_3_percent_crashes_stop_at_once_and_call_the_decision_owners() -> None:
    r = feed(started(), 0.00005, start=T0, until=T0 + 10 * M).release
    stop = feed(r, 0.003, start=T0 + 10 * M + S30, until=T0 + 11 * M, owners=("bob", "alice"))
    after = stop.release
    assert after.state is ReleaseState.PAUSED
    assert ENGLISH(after.paused_reason) == "guard crash_stop: 0.3% > 0.1%"
    posts = [e for e in stop.effects if isinstance(e, Post)]
    assert len(posts) == 1  # one post: the pause is told in it, not twice
    keys = [b.key for b in posts[0].message.blocks]
    assert keys == ["release.stopped", "release.guard_evidence", "release.stop_meeting"]
    assert posts[0].message.blocks[2].params["by"] == T0 + 11 * M + 15 * M
    assert {e.person for e in stop.effects if isinstance(e, DirectMessage)} == {"bob", "alice"}
    # Still breaching, still paused: nobody is called twice for one run of bad samples.
    again = feed(after, 0.003, start=T0 + 11 * M + S30, until=T0 + 12 * M, owners=("bob",))
    assert not [e for e in again.effects if isinstance(e, DirectMessage)]
    assert again.release.state is ReleaseState.PAUSED


def test_0_6_percent_for_two_minutes_rolls_back_even_while_stopped() -> None:
    r = feed(started(), 0.00005, start=T0, until=T0 + 10 * M).release
    result = feed(r, 0.006, start=T0 + 10 * M + S30, until=T0 + 12 * M)
    assert result.release.state is ReleaseState.PAUSED
    result = feed(result.release, 0.006, start=T0 + 12 * M + S30, until=T0 + 12 * M + S30)
    assert result.release.state is ReleaseState.ROLLED_BACK
    assert ENGLISH(result.history[-1].reason) == "guard crash: 0.6% > 0.5%"


def test_a_stage_target_not_held_refuses_promotion_with_one_sentence() -> None:
    # 0.08% crashes: under both tiers and under the first stage's target (< 0.1%).
    r = feed(started(), 0.0008, start=T0, until=T0 + 120 * M).release
    assert r.state is ReleaseState.IN_STAGE
    promoted = machine.promote(r, actor="bob", now=T0 + 120 * M).release
    assert promoted.stage == 1
    # In the 5% stage the target is 0.05%: 0.08% all along holds the release there.
    held = feed(promoted, 0.0008, start=T0 + 120 * M + S30, until=T0 + 360 * M).release
    with pytest.raises(Refused) as refused:
        machine.promote(held, actor="bob", now=T0 + 361 * M)
    [detail] = refused.value.details
    assert detail.key == "release.blocker.target"
    assert detail.params == {
        "guard": "crash",
        "peak": "0.08%",
        "target": "0.05%",
        "stage": "small",
    }


def test_a_target_is_judged_on_the_stage_s_own_samples() -> None:
    # A high reading in the first stage does not hold the second one.
    r = feed(started(), 0.0008, start=T0, until=T0 + 120 * M).release
    promoted = machine.promote(r, actor="bob", now=T0 + 120 * M).release
    clean = feed(promoted, 0.0001, start=T0 + 120 * M + S30, until=T0 + 360 * M).release
    assert machine.blockers(clean, now=T0 + 361 * M) == []
    assert clean.guards["crash"].peak == 0.0001


def test_skipping_a_stage_needs_a_forced_promotion() -> None:
    r = feed(started(), 0.00005, start=T0, until=T0 + 120 * M).release
    with pytest.raises(Refused) as refused:
        machine.promote(r, actor="bob", now=T0 + 120 * M, to="20%")
    assert refused.value.text.key == "release.skip_refused"
    assert refused.value.text.params["stage"] == "small"
    forced = machine.promote(r, actor="alice", now=T0 + 120 * M, to="large", force_reason="hotfix")
    assert (forced.release.stage, forced.release.percent) == (2, 20)
    assert ENGLISH(forced.history[-1].reason) == "forced: hotfix"


def test_the_plan_keeps_tiers_targets_and_decision_through_its_snapshot() -> None:
    again = Plan.from_json(PLAN.to_json())
    assert again == PLAN
    old = PLAN.to_json()
    for stage in old["stages"]:
        del stage["targets"]
    del old["decision"]
    assert Plan.from_json(old) == replace(
        PLAN, stages=tuple(replace(s, targets=()) for s in PLAN.stages), decision=("owner",)
    )
