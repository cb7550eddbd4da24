"""The effect writer tells the scheduler only the last word on each timer key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from commands.effects import apply
from playbooks.effects import ArmTimer, CancelTimer
from playbooks.people import Directory
from storage.unit_of_work import unit_of_work

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_cancel_then_arm_of_one_key_leaves_it_armed(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        apply(
            session,
            [ArmTimer("k", "kind", NOW + timedelta(minutes=5))],
            now=NOW,
            directory=Directory.of([]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    with unit_of_work(engine) as session:
        applied = apply(
            session,
            [CancelTimer("k"), ArmTimer("k", "kind", NOW + timedelta(minutes=9)), CancelTimer("j")],
            now=NOW,
            directory=Directory.of([]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    assert applied.armed == [("k", NOW + timedelta(minutes=9))]
    assert applied.cancelled == []
    with unit_of_work(engine) as session:
        applied = apply(
            session,
            [ArmTimer("k", "kind", NOW + timedelta(minutes=10)), CancelTimer("k")],
            now=NOW,
            directory=Directory.of([]),
            new_token=lambda: "t",
            reachable=frozenset({"console"}),
        )
    assert applied.armed == []
    assert applied.cancelled == ["k"]
