"""What follows a release's change whichever move made it, decided without a database:
the launch's progress timer armed by its first traffic and stopped by a rollback, and the
guard schedule reading a live release as it now stands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from playbooks.effects import ArmTimer, CancelTimer, Conversation, Watch
from playbooks.launch import timers as launch_timers
from playbooks.launch.plan import LaunchPlan
from playbooks.releases import machine
from playbooks.releases.machine import Release, ReleaseState
from playbooks.releases.plan import Plan, Stage, TrafficKind
from playbooks.releases.settled import settled

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
M = timedelta(minutes=1)
PLAN = Plan(
    name="test",
    stages=(Stage("canary", 10, 30 * M), Stage("full", 100)),
    launch=LaunchPlan(progress_every=15 * M),
)


def new() -> Release:
    return Release(
        id=7,
        service="web",
        version="1.4.2",
        plan=PLAN,
        state=ReleaseState.PENDING,
        stage=-1,
        percent=0.0,
        owner="alice",
        attempt=1,
        channel=Conversation("console", "#releases"),
        traffic=TrafficKind.SIMULATED,
        metrics="simulated",
        started_at=T0,
    )


def test_a_start_arms_the_progress_report_and_is_watched() -> None:
    moved = machine.start(new(), now=T0)
    before = list(moved.effects)
    after = settled(moved)
    assert after.effects[: len(before)] == before  # the move's own effects come first
    added = after.effects[len(before) :]
    progress = launch_timers.progress_key(7)
    assert [e.key for e in added if isinstance(e, ArmTimer)] == [progress]
    assert [e for e in added if isinstance(e, Watch)] == [Watch(after.release)]


def test_a_rollback_stops_the_progress_report_and_the_watch() -> None:
    live = machine.start(new(), now=T0).release
    rolled = settled(machine.rollback(live, actor="alice", now=T0 + M, reason="bad"))
    progress = launch_timers.progress_key(7)
    assert CancelTimer(progress) in rolled.effects
    assert not any(isinstance(e, Watch) for e in rolled.effects)


def test_a_change_that_moves_nothing_only_keeps_the_watch_reading_it() -> None:
    live = machine.start(new(), now=T0).release
    unchanged = settled(machine.Result(replace(live, note="still fine")))
    assert unchanged.effects == [Watch(unchanged.release)]
