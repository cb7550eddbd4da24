"""The LISTEN side of replica notices, on a real PostgreSQL: a committed notice runs its
handler, a rolled-back one does not, and a dropped connection comes back by itself."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine, text

from bot.notice_listener import NoticeListener
from storage import notices
from storage.engine import make_engine
from storage.unit_of_work import unit_of_work

pytestmark = pytest.mark.postgres


class Heard:
    def __init__(self) -> None:
        self.topics: asyncio.Queue[str] = asyncio.Queue()

    def handler(self, topic: str) -> object:
        return lambda: self.topics.put_nowait(topic)

    async def next(self) -> str:
        return await asyncio.wait_for(self.topics.get(), timeout=10)


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


async def listening(engine: Engine, heard: Heard) -> NoticeListener:
    listener = NoticeListener(
        engine.url, {"timers": heard.handler("timers"), "outbox": heard.handler("outbox")}
    )
    await listener.start()
    await asyncio.wait_for(listener.connected.wait(), timeout=10)
    # Every handler runs once on connecting (notices sent before were missed): drain them.
    assert sorted([await heard.next(), await heard.next()]) == ["outbox", "timers"]
    return listener


async def test_a_committed_notice_runs_its_handler_and_a_rolled_back_one_does_not(
    pg: Engine,
) -> None:
    heard = Heard()
    listener = await listening(pg, heard)
    try:
        with unit_of_work(pg) as session:
            notices.notify(session, "outbox")
            session.rollback()  # the command failed: nothing it wrote is sent
        with unit_of_work(pg) as session:
            notices.notify(session, "timers")
        assert await heard.next() == "timers"
        assert heard.topics.empty()
    finally:
        await listener.stop()


async def test_a_dropped_connection_is_logged_once_and_reopened(
    pg: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    heard = Heard()
    listener = await listening(pg, heard)
    try:
        listener.connected.clear()
        with pg.connect() as connection:  # as a database restart or a proxy would
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN %' AND datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            )
            connection.commit()
        with caplog.at_level(logging.INFO, logger="shipwatch.notices"):
            await asyncio.wait_for(listener.connected.wait(), timeout=10)
        lost = [r for r in caplog.records if r.getMessage().startswith("lost the notice")]
        assert len(lost) == 1
        # Back: what was missed is looked at again, and new notices arrive.
        assert sorted([await heard.next(), await heard.next()]) == ["outbox", "timers"]
        with unit_of_work(pg) as session:
            notices.notify(session, "outbox")
        assert await heard.next() == "outbox"
    finally:
        await listener.stop()
