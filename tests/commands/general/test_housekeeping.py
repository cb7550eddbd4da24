"""The daily sweep through the running app: its timer is armed at start, once however many
replicas start, fires at 04:00 in the bot's timezone, deletes what is done and older than
SHIPWATCH_KEEP_DAYS, comes back a minute later while a backlog is left, and is armed
again at start if it ever failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import select

from storage.models import SeenEvent, Timer
from storage.repositories import housekeeping
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


def sweep_timer(h: Harness) -> Timer:
    with unit_of_work(h.app.engine) as session:
        [found] = session.exec(select(Timer).where(Timer.key == "housekeeping")).all()
        return found


def ledger(h: Harness) -> list[str]:
    with unit_of_work(h.app.engine) as session:
        return sorted(e.event_id for e in session.exec(select(SeenEvent)).all())


async def test_the_sweep_runs_at_four_in_the_morning_and_deletes_what_is_old(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(timezone="Asia/Shanghai", keep_days=7)  # 09:00 there
    timer = sweep_timer(h)
    assert (timer.state, timer.payload) == ("pending", {"keep_days": 7})
    assert timer.due_at == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # 04:00 next day
    now = h.clock.now()
    with unit_of_work(h.app.engine) as session:
        session.add(SeenEvent(source="slack", event_id="old", seen_at=now - timedelta(days=8)))
        session.add(SeenEvent(source="slack", event_id="new", seen_at=now - timedelta(days=2)))
    await h.advance(hours=18, minutes=59)
    assert ledger(h) == ["new", "old"]
    await h.advance(minutes=1)
    assert ledger(h) == ["new"]
    timer = sweep_timer(h)
    assert (timer.state, timer.due_at) == ("pending", datetime(2026, 11, 24, 20, 0, tzinfo=UTC))


async def test_a_backlog_is_swept_a_minute_at_a_time(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    old = h.clock.now() - timedelta(days=40)
    with unit_of_work(h.app.engine) as session:  # a batch and three more
        rows = [
            {"source": "slack", "event_id": f"e{n}", "seen_at": old}
            for n in range(housekeeping.BATCH + 3)
        ]
        session.connection().execute(insert(SeenEvent.__table__), rows)  # type: ignore[attr-defined]
    first = sweep_timer(h).due_at
    await h.app.advance_to(first)
    assert len(ledger(h)) == 3
    assert sweep_timer(h).due_at == first + timedelta(minutes=1)
    await h.advance(minutes=2)
    assert ledger(h) == []
    assert sweep_timer(h).due_at == first + timedelta(days=1)


async def test_replicas_starting_arm_one_sweep_and_a_failed_one_is_armed_again(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await make_harness()
    with unit_of_work(h.app.engine) as session:
        assert len(session.exec(select(Timer).where(Timer.key == "housekeeping")).all()) == 1
        failed = session.exec(select(Timer).where(Timer.key == "housekeeping")).one()
        failed.state = "failed"
        session.add(failed)
    restarted = await make_harness(start=h.clock.now() + timedelta(hours=1), keep_days=90)
    timer = sweep_timer(restarted)
    assert (timer.state, timer.payload) == ("pending", {"keep_days": 90})
