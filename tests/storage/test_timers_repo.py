"""Durable timer rows: arm, move, cancel and claim exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from storage import migrate
from storage.engine import make_engine
from storage.models import Timer
from storage.repositories import timers
from storage.unit_of_work import unit_of_work

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_arm_then_claim_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        timers.arm(session, key="k", kind="x", due_at=NOW, payload={"a": 1}, now=NOW)
    with unit_of_work(engine) as session:
        assert timers.claim(session, key="k", now=NOW - timedelta(seconds=1)) is None
        claimed = timers.claim(session, key="k", now=NOW)
        assert claimed is not None
        assert claimed.payload == {"a": 1}
        assert claimed.due_at == NOW
        assert claimed.due_at.tzinfo is not None
    with unit_of_work(engine) as session:
        assert timers.claim(session, key="k", now=NOW) is None


def test_rearming_a_key_moves_it(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        timers.arm(session, key="k", kind="x", due_at=NOW, payload={}, now=NOW)
        timers.arm(session, key="k", kind="x", due_at=NOW + timedelta(hours=1), payload={}, now=NOW)
    with unit_of_work(engine) as session:
        assert timers.count_pending(session) == 1
        assert timers.next_due(session) == NOW + timedelta(hours=1)


def test_cancelled_timer_is_never_claimed(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        timers.arm(session, key="k", kind="x", due_at=NOW, payload={}, now=NOW)
    with unit_of_work(engine) as session:
        assert timers.cancel(session, key="k")
        assert not timers.cancel(session, key="k")
    with unit_of_work(engine) as session:
        assert timers.claim(session, key="k", now=NOW) is None
        assert timers.pending(session) == []


def test_pending_come_in_due_order(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for minutes in (30, 10, 20):
            timers.arm(
                session,
                key=f"k{minutes}",
                kind="x",
                due_at=NOW + timedelta(minutes=minutes),
                payload={},
                now=NOW,
            )
    with unit_of_work(engine) as session:
        due = timers.pending(session, due_before=NOW + timedelta(minutes=20))
        assert [t.key for t in due] == ["k10", "k20"]


def test_rollback_leaves_nothing(engine: Engine) -> None:
    try:
        with unit_of_work(engine) as session:
            timers.arm(session, key="k", kind="x", due_at=NOW, payload={}, now=NOW)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with unit_of_work(engine) as session:
        assert timers.count_pending(session) == 0


@pytest.mark.postgres
def test_a_claim_waits_for_a_payload_being_added_to(postgres_url: str) -> None:
    """Two replicas: one adds to a pending timer's payload (an incident's alert digest)
    while the other fires it. The locked read makes them take turns, so the firing reads
    every line and none is said again by a digest re-armed in the past."""
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            timers.arm(session, key="d", kind="x", due_at=NOW, payload={"lines": ["A"]}, now=NOW)
        claimed: list[Timer | None] = []

        def fire() -> None:
            with unit_of_work(engine) as session:
                claimed.append(timers.claim(session, key="d", now=NOW))

        with unit_of_work(engine) as session:
            row = timers.get(session, key="d", for_update=True)
            assert row is not None
            firing = threading.Thread(target=fire)
            firing.start()
            firing.join(timeout=0.5)
            assert firing.is_alive(), "the claim did not wait for the locked row"
            timers.arm(
                session, key="d", kind="x", due_at=NOW, payload={"lines": ["A", "B"]}, now=NOW
            )
        firing.join(timeout=10)
        [fired] = claimed
        assert fired is not None
        assert fired.payload == {"lines": ["A", "B"]}
    finally:
        engine.dispose()


def test_a_claim_long_after_due_is_marked_late(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        timers.arm(session, key="on", kind="x", due_at=NOW, payload={}, now=NOW)
        timers.arm(session, key="late", kind="x", due_at=NOW, payload={}, now=NOW)
    wait = timedelta(seconds=30)
    with unit_of_work(engine) as session:
        on_time = timers.claim(session, key="on", now=NOW + wait, late_after=wait)
        late = timers.claim(session, key="late", now=NOW + wait * 2, late_after=wait)
    assert on_time is not None
    assert not on_time.fired_late
    assert late is not None
    assert late.fired_late
    with unit_of_work(engine) as session:
        stored = {t.key: t.fired_late for t in session.exec(select(Timer)).all()}
    assert stored == {"on": False, "late": True}
