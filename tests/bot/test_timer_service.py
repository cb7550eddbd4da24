"""The wall-clock path: APScheduler arms durable timer rows and fires them through dispatch."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot import timers as bot_timers
from bot.clock import WallClock
from bot.db_executor import DbExecutor
from bot.timers import TimerService
from storage.repositories import timers
from storage.unit_of_work import unit_of_work


async def test_overdue_fire_on_start_then_scheduler_fires_new_ones(engine: Engine) -> None:
    clock = WallClock()
    fired: list[str] = []
    second = asyncio.Event()

    armed_during_firing: list[int] = []

    async def fire(key: str) -> None:
        fired.append(key)
        # A sweep while this timer's row is still pending must not arm it again.
        await service.sweep()
        armed_during_firing.append(service.armed_count())
        with unit_of_work(engine) as session:
            timers.claim(session, key=key, now=clock.now())
        if key == "armed-after-start":
            second.set()

    now = clock.now()
    with unit_of_work(engine) as session:
        timers.arm(
            session, key="overdue", kind="x", due_at=now - timedelta(hours=1), payload={}, now=now
        )
        timers.arm(
            session, key="later", kind="x", due_at=now + timedelta(days=1), payload={}, now=now
        )
    db = DbExecutor(engine)
    service = TimerService(engine=engine, db=db, clock=clock, fire=fire)
    await service.start()
    try:
        assert fired == ["overdue"], "an overdue timer fires once, at start"
        assert service.armed_count() == 1, "the future one is armed in the scheduler"

        # A row written by another process is picked up by the sweep.
        with unit_of_work(engine) as session:
            timers.arm(
                session,
                key="armed-after-start",
                kind="x",
                due_at=now - timedelta(seconds=1),
                payload={},
                now=now,
            )
        await service.sweep()
        await asyncio.wait_for(second.wait(), timeout=10)
        assert fired == ["overdue", "armed-after-start"]
        assert armed_during_firing[-1] == 1, "only 'later' is armed while the other fires"

        # Another process moves "later" an hour earlier: the sweep re-arms it at the new time.
        moved = now + timedelta(hours=23)
        with unit_of_work(engine) as session:
            timers.arm(session, key="later", kind="x", due_at=moved, payload={}, now=now)
        assert service.armed_at("later") == now + timedelta(days=1)
        await service.sweep()
        assert service.armed_at("later") == moved

        service.cancel("later")
        assert service.armed_count() == 0
    finally:
        await service.stop()
        await db.shutdown()


async def test_a_sweep_reads_the_pending_rows_a_chunk_at_a_time_and_arms_them_all(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of one due time straddling a chunk's end are neither skipped nor read twice."""
    monkeypatch.setattr(bot_timers, "SWEEP_CHUNK", 2)
    clock = WallClock()
    now = clock.now()
    due = {f"t{n}": now + timedelta(days=1 + n // 3) for n in range(7)}  # three of a time
    with unit_of_work(engine) as session:
        for key, due_at in due.items():
            timers.arm(session, key=key, kind="x", due_at=due_at, payload={}, now=now)
    reads: list[int] = []
    db = DbExecutor(engine)
    service = TimerService(engine=engine, db=db, clock=clock, fire=lambda key: asyncio.sleep(0))
    read = service._pending_due_times

    def counted(after: tuple[datetime, int] | None) -> list[tuple[str, datetime, int]]:
        rows = read(after)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(service, "_pending_due_times", counted)
    await service.start()
    try:
        assert {key: service.armed_at(key) for key in due} == due
        assert service.armed_count() == 7
        assert reads == [2, 2, 2, 1], "four reads of at most two rows, each row once"
    finally:
        await service.stop()
        await db.shutdown()
