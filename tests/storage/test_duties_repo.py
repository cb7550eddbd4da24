"""Duty leases: one holder at a time, a fencing token that moves with the holder."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from storage.repositories import duties
from storage.unit_of_work import unit_of_work

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
TTL = timedelta(seconds=6)


def acquire(engine: Engine, holder: str, now: datetime, name: str = "guard-ticks") -> int | None:
    with unit_of_work(engine) as session:
        return duties.acquire(session, name=name, holder=holder, now=now, ttl=TTL)


def test_first_taker_holds_and_renews_with_the_same_token(engine: Engine) -> None:
    assert acquire(engine, "a", NOW) == 1
    assert acquire(engine, "b", NOW + timedelta(seconds=1)) is None, "a's lease runs"
    assert acquire(engine, "a", NOW + timedelta(seconds=2)) == 1, "renewed, same tenure"
    # Renewed at +2 s, so it runs to +8 s: b is still refused at +7 s.
    assert acquire(engine, "b", NOW + timedelta(seconds=7)) is None


def test_a_lapsed_lease_moves_and_the_token_moves_with_it(engine: Engine) -> None:
    assert acquire(engine, "a", NOW) == 1
    assert acquire(engine, "b", NOW + timedelta(seconds=7)) == 2
    assert acquire(engine, "a", NOW + timedelta(seconds=8)) is None, "a lost it"
    # b dies; a takes it back, in a new tenure: the token tells a it was held meanwhile.
    assert acquire(engine, "a", NOW + timedelta(seconds=14)) == 3
    with unit_of_work(engine) as session:
        [lease] = duties.leases(session)
        assert (lease.name, lease.holder, lease.token) == ("guard-ticks", "a", 3)
        assert lease.expires_at == NOW + timedelta(seconds=14) + TTL


def test_release_lets_another_take_it_at_once(engine: Engine) -> None:
    assert acquire(engine, "a", NOW) == 1
    with unit_of_work(engine) as session:
        assert duties.release(session, name="guard-ticks", holder="b", now=NOW) is False
        assert duties.release(session, name="guard-ticks", holder="a", now=NOW) is True
    assert acquire(engine, "b", NOW) == 2


def test_duties_are_leased_apart(engine: Engine) -> None:
    assert acquire(engine, "a", NOW, name="guard-ticks") == 1
    assert acquire(engine, "b", NOW, name="telegram-polling") == 1
    assert acquire(engine, "b", NOW, name="guard-ticks") is None


@pytest.mark.postgres
def test_many_racing_takers_one_holder(postgres_url: str) -> None:
    from storage import migrate
    from storage.engine import make_engine

    engine = make_engine(postgres_url)
    migrate.upgrade(engine)

    def race(at: datetime) -> list[str]:
        won: list[str] = []
        barrier = threading.Barrier(8)

        def take(holder: str) -> None:
            barrier.wait()
            if acquire(engine, holder, at) is not None:
                won.append(holder)

        threads = [threading.Thread(target=take, args=(f"r{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return won

    assert len(race(NOW)) == 1, "the first row is created once"
    assert len(race(NOW + timedelta(seconds=7))) == 1, "a lapsed lease is taken once"
    engine.dispose()
