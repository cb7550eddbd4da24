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


def test_claim_among_takes_those_due_by_then_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for key, due in (
            ("a", NOW),
            ("b", NOW + timedelta(minutes=4)),
            ("c", NOW + timedelta(hours=1)),
        ):
            timers.arm(session, key=key, kind="x", due_at=due, payload={}, now=NOW)
        timers.arm(session, key="gone", kind="x", due_at=NOW, payload={}, now=NOW)
        timers.cancel(session, key="gone")
    keys = ["a", "b", "c", "gone", "unknown"]
    with unit_of_work(engine) as session:
        claimed = timers.claim_among(session, keys=keys, due_by=NOW + timedelta(minutes=5), now=NOW)
    assert [t.key for t in claimed] == ["a", "b"]
    assert all(t.state == "fired" and t.fired_at == NOW for t in claimed)
    with unit_of_work(engine) as session:
        assert (
            timers.claim_among(session, keys=keys, due_by=NOW + timedelta(minutes=5), now=NOW) == []
        )
        assert timers.claim_among(session, keys=[], due_by=NOW, now=NOW) == []


@pytest.mark.postgres
def test_claim_among_skips_a_timer_another_transaction_holds(postgres_url: str) -> None:
    """A replica firing one of the timers holds its row: the others are claimed at once,
    without waiting for it, and it stays that replica's."""
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            for key in ("a", "b", "c"):
                timers.arm(session, key=key, kind="x", due_at=NOW, payload={}, now=NOW)
        claimed: list[list[str]] = []

        def claim_all() -> None:
            with unit_of_work(engine) as session:
                found = timers.claim_among(session, keys=["a", "b", "c"], due_by=NOW, now=NOW)
                claimed.append([t.key for t in found])

        with unit_of_work(engine) as session:
            assert timers.claim(session, key="b", now=NOW) is not None
            other = threading.Thread(target=claim_all)
            other.start()
            other.join(timeout=10)
            assert not other.is_alive(), "claim_among waited for a held timer"
        assert claimed == [["a", "c"]]
        with unit_of_work(engine) as session:
            states = {t.key: t.state for t in session.exec(select(Timer)).all()}
        assert states == {"a": "fired", "b": "fired", "c": "fired"}
    finally:
        engine.dispose()
