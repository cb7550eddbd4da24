"""The duty keeper, a round at a time on a clock the test sets: a duty starts where its
lease is won, stops where it is lost, and no work is done once a lease may have lapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.duties import TTL, Duty, DutyKeeper
from storage.repositories import duties as leases
from storage.unit_of_work import unit_of_work

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class SetClock:
    """A wall clock as far as the keeper knows, moved by the test."""

    virtual = False

    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []

    def duty(self, name: str) -> Duty:
        async def start() -> None:
            self.events.append(f"start {name}")

        async def stop() -> None:
            self.events.append(f"stop {name}")

        return Duty(name, start, stop)


def keeper(engine: Engine, clock: SetClock, instance: str, log: Log) -> DutyKeeper:
    made = DutyKeeper(engine=engine, clock=clock, instance_id=instance, shared=True)
    made.add(log.duty("guard-ticks"))
    return made


async def test_one_holder_then_the_survivor_after_the_lease_lapses(engine: Engine) -> None:
    clock, log_a, log_b = SetClock(), Log(), Log()
    a, b = keeper(engine, clock, "a", log_a), keeper(engine, clock, "b", log_b)
    await a.renew_all()
    await b.renew_all()
    assert (a.held(), b.held()) == ({"guard-ticks": 1}, {})
    assert (log_a.events, log_b.events) == (["start guard-ticks"], [])

    clock.advance(2)
    await a.renew_all()  # renewed: runs to +8 s
    clock.advance(5)
    await b.renew_all()
    assert b.held() == {}, "a renewed at +2 s, so its lease still runs at +7 s"

    # a stops renewing (hung, or killed). Past its lease it does no work, even before it
    # hears it lost the duty...
    clock.advance(TTL.total_seconds())
    assert not a.holds("guard-ticks")
    await b.renew_all()
    assert b.held() == {"guard-ticks": 2}, "taken over, in a new tenure"
    # ...and when it does hear, it stops.
    await a.renew_all()
    assert log_a.events == ["start guard-ticks", "stop guard-ticks"]
    assert a.held() == {}


async def test_a_tenure_lost_in_between_starts_afresh(engine: Engine) -> None:
    clock, log_a, log_b = SetClock(), Log(), Log()
    a, b = keeper(engine, clock, "a", log_a), keeper(engine, clock, "b", log_b)
    await a.renew_all()
    clock.advance(7)
    await b.renew_all()  # a's lapsed lease is b's (token 2); then b dies too
    clock.advance(7)
    await a.renew_all()  # a takes it again, token 3: not the tenure it remembers
    assert a.held() == {"guard-ticks": 3}
    assert log_a.events == ["start guard-ticks", "stop guard-ticks", "start guard-ticks"]


async def test_stop_gives_the_duty_back_for_another_to_take_at_once(engine: Engine) -> None:
    clock, log_a, log_b = SetClock(), Log(), Log()
    a, b = keeper(engine, clock, "a", log_a), keeper(engine, clock, "b", log_b)
    await a.start()
    await a.stop()
    assert log_a.events == ["start guard-ticks", "stop guard-ticks"]
    await b.renew_all()
    assert b.held() == {"guard-ticks": 2}


async def test_alone_it_holds_every_duty_and_asks_no_database(engine: Engine) -> None:
    clock, log = SetClock(), Log()
    alone = DutyKeeper(engine=engine, clock=clock, instance_id="solo", shared=False)
    alone.add(log.duty("guard-ticks"))
    alone.add(log.duty("telegram-polling"))
    assert alone.holds("guard-ticks"), "held from the start: nobody else could hold it"
    await alone.start()
    clock.advance(3600)
    assert alone.held() == {"guard-ticks": 0, "telegram-polling": 0}
    await alone.stop()
    assert log.events == [
        "start guard-ticks",
        "start telegram-polling",
        "stop telegram-polling",
        "stop guard-ticks",
    ]
    with unit_of_work(engine) as session:
        assert list(leases.leases(session)) == []
