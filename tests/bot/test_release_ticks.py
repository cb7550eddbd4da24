"""Guard ticks kept in memory: their cadence, what they read, and watching across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.clock import VirtualClock
from bot.guard_ticks import GuardTicks
from commands.core import pipeline
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation, Measure, Unwatch
from playbooks.releases import machine
from playbooks.releases.guards import GuardState
from storage.models import ReleaseRow, Timer
from storage.repositories import timers
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.playbooks.releases.test_release_machine import T0, started
from tests.support import set_metrics

GOOD = {"error_rate": 0.01, "p99_latency_ms": 300.0}
S30 = timedelta(seconds=30)


def last_read(h: Harness, service: str = "web") -> dict[str, datetime]:
    with unit_of_work(h.app.engine) as session:
        row = session.exec(select(ReleaseRow).where(ReleaseRow.service == service)).one()
        return {
            name: GuardState.from_json(data).last_at.replace(tzinfo=UTC)
            for name, data in row.guards.items()
        }


async def test_the_guards_are_read_every_tick_and_no_timer_row_is_written(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    began = h.clock.now()
    await h.advance(minutes=2)
    assert set(last_read(h).values()) == {began + 4 * S30}
    with unit_of_work(h.app.engine) as session:
        kinds = session.exec(select(Timer.kind)).all()
    assert machine.TICK_KIND not in kinds
    assert h.app.ticks.next_due() == began + 5 * S30


async def test_watching_resumes_after_a_restart(make_harness: HarnessFactory) -> None:
    first = await make_harness()
    set_metrics(first, GOOD)
    await first.say("/release start web 1.4.2")
    began = first.clock.now()
    await first.advance(minutes=1)
    assert set(last_read(first).values()) == {began + 2 * S30}
    await first.app.stop()

    # The bot was down for an hour: the schedule is rebuilt from the releases table.
    again = await make_harness(start=began + timedelta(hours=1))
    set_metrics(again, GOOD)
    assert again.app.ticks.watching() == [1]
    assert again.app.ticks.next_due() == again.clock.now()  # read at once
    await again.advance(minutes=1)
    assert set(last_read(again).values()) == {again.clock.now()}
    status = again.reply_text(await again.say("/release status web"))
    assert "error_rate (> 5%): ok: 1%" in status


async def test_a_tick_row_left_by_an_earlier_version_fires_once_and_changes_nothing(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    with unit_of_work(h.app.engine) as session:
        timers.arm(
            session,
            key=machine.tick_key(1),
            kind=machine.TICK_KIND,
            due_at=h.clock.now(),
            payload={"release_id": 1},
            now=h.clock.now(),
        )
    await h.advance(seconds=30)
    with unit_of_work(h.app.engine) as session:
        row = session.exec(select(Timer).where(col(Timer.key) == machine.tick_key(1))).one()
    assert row.state == "fired"
    assert h.app.ticks.watching() == [1]


async def test_releases_moved_by_another_process_are_followed(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)

    def elsewhere(line: str) -> None:
        # The pipeline alone, as another process runs it: this bot sees only the rows.
        inv = CommandInvocation("console", "alice", Conversation("console", "#ops"), line)
        assert pipeline.run_command(inv, runtime=h.app.runtime, now=h.clock.now()).status == "ok"

    elsewhere("/release start web 1.4.2")
    assert h.app.ticks.watching() == []
    began = h.clock.now()
    await h.advance(minutes=1)
    assert h.app.ticks.watching() == [1]
    assert set(last_read(h).values()) == {began + 2 * S30}
    elsewhere("/release abort web --reason 'wrong build'")
    await h.advance(minutes=1)
    assert h.app.ticks.watching() == []
    assert set(last_read(h).values()) == {began + 2 * S30}


async def test_a_refresh_keeps_the_cadence_and_the_next_tick_reads_the_new_stage() -> None:
    clock = VirtualClock(T0)
    measured: list[Measure] = []

    async def measure(m: Measure) -> None:
        measured.append(m)

    ticks = GuardTicks(clock=clock, measure=measure)
    r = started()
    ticks.watch(r, start=T0)
    assert await ticks.fire_due() == 1
    assert (measured[0].at, measured[0].stage_name) == (T0, "canary")
    promoted = machine.promote(r, actor="alice", now=T0 + S30 / 2, force_reason="go").release
    clock.advance_to(T0 + S30 / 2)
    ticks.watch(promoted)  # a move's save: what is read changes, not when
    assert ticks.next_due() == T0 + S30
    assert await ticks.fire_due() == 0
    clock.advance_to(T0 + S30)
    assert await ticks.fire_due() == 1
    assert (measured[1].at, measured[1].stage_name) == (T0 + S30, "early")
    ticks.watch(promoted, start=T0 + 40 * S30)  # a retry starts the cadence anew
    assert ticks.next_due() == T0 + 40 * S30
    ticks.apply([Unwatch(r.id)])
    assert ticks.next_due() is None
    assert ticks.watching() == []


class WallLikeClock:
    """Moves only when told, like the virtual clock, but reports itself a wall clock."""

    virtual = False

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


async def test_on_the_wall_clock_samples_are_taken_at_their_due_time_without_drift() -> None:
    clock = WallLikeClock(T0)
    measured: list[Measure] = []

    async def measure(m: Measure) -> None:
        measured.append(m)

    ticks = GuardTicks(clock=clock, measure=measure)
    r = started()
    ticks.watch(r, start=T0)
    late = timedelta(milliseconds=3)
    for n in range(3):  # each tick fired a few ms late: the samples stay 30 s apart
        clock.at = T0 + n * S30 + late * (3 - n)
        assert await ticks.fire_due() == 1
    assert [m.at for m in measured] == [T0, T0 + S30, T0 + 2 * S30]
    # A stall longer than a tick: sampled when it fires, and the next a tick after that.
    clock.at = T0 + timedelta(minutes=5)
    assert await ticks.fire_due() == 1
    assert measured[-1].at == clock.at
    assert ticks.next_due() == clock.at + S30
