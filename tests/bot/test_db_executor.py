"""The event loop never waits for the database: while another process holds SQLite's write
lock, an Alertmanager notification and Slack commands wait for it on the database thread,
and meanwhile /healthz, Slack's acknowledgement and a repeated notification answer at once,
over real HTTP (a repeat after waiting for that news at most ``REPEAT_WAITS_AT_MOST_S``)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlmodel import select

from bot import adapters
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.db_executor import DbExecutor, threads_for
from bot.http import serve
from bot.settings import Settings
from storage import migrate
from storage.engine import make_engine
from storage.models import IncidentRow
from storage.unit_of_work import unit_of_work
from tests.bot.adapters.test_slack import SECRET, Rig, blocks_of, texts
from tests.conftest import START, Harness
from tests.fakes.adapters import RecordingAdapter
from tests.fakes.alertmanager import alert, notification
from tests.fakes.chat_people import chat_config
from tests.fakes.slack_api import FakeSlack
from tests.fakes.sqlite_lock import WriteLock

HOLD_S = 5.0  # how long the other process keeps the write lock
# What "at once" means here: generous for a loaded 2-core machine; the old behaviour (the
# loop blocked on the lock) answered after the rest of the 5 s hold.
BOUND_S = 0.1
PROBE_EVERY_S = 0.1  # pacing between probes, so they sample the whole hold
ALERTMANAGER_TOKEN = "am-token-for-tests"


@pytest.fixture
async def rig(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Rig]:
    fake = FakeSlack()
    api_url = await fake.start()
    config = load(chat_config(tmp_path / "config", first="slack"))
    settings = Settings(
        database_url=sqlite_url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        alertmanager_token=ALERTMANAGER_TOKEN,
    )
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    clock = VirtualClock(START)
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=clock,
        adapters=adapters.build(settings, config),
        seed=0,
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    await app.start()
    async with aiohttp.ClientSession() as client:
        yield Rig(app, fake, f"http://127.0.0.1:{port}/slack/events", client, clock)
    await app.stop()
    await runner.cleanup()
    await fake.stop()
    engine.dispose()


async def timed_health(rig: Rig) -> float:
    started = time.perf_counter()
    async with rig.client.get(rig.url.replace("/slack/events", "/healthz")) as response:
        assert response.status == 200
        await response.read()
    return time.perf_counter() - started


CRITICAL = notification(alert("HighErrorRate", service="web", severity="critical"))
WARNING = notification(alert("QueueBacklog", service="api", severity="warning"))


async def post_alert(rig: Rig, body: dict[str, object]) -> tuple[int, dict[str, object], float]:
    async with rig.client.post(
        rig.url.replace("/slack/events", "/hooks/alertmanager"),
        json=body,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
    ) as response:
        answer = await response.json()
    return response.status, answer, time.perf_counter()


async def test_health_acks_and_repeats_answer_while_another_process_holds_the_lock(
    rig: Rig, sqlite_url: str
) -> None:
    # Warm up (bolt's first request, the first connection) outside the measurement.
    await timed_health(rig)
    assert (await rig.command("/shipwatch", "help")).status == 200
    await rig.fake.wait_for("respond")
    assert (await post_alert(rig, WARNING))[:2] == (
        200,
        {"status": "ok", "action": "opened", "incident": 1},
    )

    lock = WriteLock(str(make_url(sqlite_url).database), HOLD_S)
    lock.start()
    assert await asyncio.to_thread(lock.taken.wait, 5)
    alerted = asyncio.create_task(post_alert(rig, CRITICAL))

    health: list[float] = []
    acks: list[float] = []
    repeats: list[float] = []
    while lock.is_alive():
        health.append(await timed_health(rig))
        if len(acks) < 3:
            started = time.perf_counter()
            response = await rig.command("/remind", f"10m check the canary {len(acks) + 1}")
            acks.append(time.perf_counter() - started)
            assert response.status == 200
            # Alertmanager repeating a notification already handled: known from memory.
            begun = time.perf_counter()
            status, answer, answered_at = await post_alert(rig, WARNING)
            repeats.append(answered_at - begun)
            assert (status, answer) == (200, {"status": "duplicate"})
        if lock.is_alive():
            assert not alerted.done(), "the notification waits for the lock"
            assert len(rig.fake.of("respond")) == 1, "so do the commands' replies"
        await asyncio.sleep(PROBE_EVERY_S)

    assert len(health) >= 10, health
    assert max(health) < BOUND_S, f"/healthz took {max(health) * 1000:.0f} ms: {health}"
    assert max(acks) < BOUND_S, f"Slack's ack took {max(acks) * 1000:.0f} ms: {acks}"
    assert max(repeats) < BOUND_S, f"a repeat took {max(repeats) * 1000:.0f} ms: {repeats}"

    # Once the lock is released, the waiting requests complete, each once and correctly.
    status, answer, answered_at = await asyncio.wait_for(alerted, timeout=10)
    assert (status, answer) == (200, {"status": "ok", "action": "opened", "incident": 2})
    assert answered_at >= lock.released_at
    replies = await rig.fake.wait_for("respond", count=4)
    reminders = sorted(texts(blocks_of(call.params)).split(" set for")[0] for call in replies[1:])
    assert reminders == ["⏰ Reminder #1", "⏰ Reminder #2", "⏰ Reminder #3"]
    with unit_of_work(rig.app.engine) as session:
        incidents = session.exec(select(IncidentRow).order_by(IncidentRow.id)).all()  # type: ignore[arg-type]
    # HighErrorRate is graded P0 by its name (alerts.yaml, seed 002's table).
    assert [(i.severity, i.service) for i in incidents] == [("P2", "api"), ("P0", "web")]


@pytest.mark.postgres
def test_sqlite_gets_one_thread_and_postgres_a_few_within_its_pool(
    sqlite_url: str, postgres_url: str
) -> None:
    for url, expected in ((sqlite_url, 1), (postgres_url, 4)):
        engine = make_engine(url)
        try:
            assert threads_for(engine) == expected
        finally:
            engine.dispose()


async def test_work_runs_on_the_database_thread_and_its_errors_come_back(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    db = DbExecutor(engine)
    try:
        names = {await db.run(lambda: threading.current_thread().name) for _ in range(3)}
        assert names == {"shipwatch-db_0"}
        with pytest.raises(ZeroDivisionError):
            await db.run(lambda: 1 // 0)
    finally:
        await db.shutdown()
        engine.dispose()


async def test_no_statement_runs_on_the_event_loops_thread(tmp_path: Path, sqlite_url: str) -> None:
    """Start, commands, a page escalating, buttons, deliveries, timers, the HTTP routes
    that read the database, and stop: every statement runs on a database thread."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    loop_thread = threading.current_thread()
    on_loop: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if threading.current_thread() is loop_thread:
            on_loop.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    adapter = RecordingAdapter()
    clock = VirtualClock(START)
    app = Application(
        settings=Settings(database_url=sqlite_url, alertmanager_token=ALERTMANAGER_TOKEN),
        config=load(None),
        engine=engine,
        clock=clock,
        adapters={adapter.platform: adapter},
        seed=0,
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{port}"
    try:
        await app.start()
        h = Harness(app, adapter, clock)
        await h.say("/remind 10m check the canary")
        await h.say('/incident open "checkout down" --sev P0 --service web')
        await h.say("/release start web 1.4.2")
        await h.say("/summary now")
        await h.advance(minutes=12)  # the reminder fires, the page escalates, guards tick
        [page_id] = re.findall(r"Page #(\d+)", "\n".join(s.text for s in adapter.sent))[:1]
        await h.say(f"/ack {page_id}", user="bob")
        async with aiohttp.ClientSession() as client:
            for path in ("/healthz", "/readyz", "/metrics"):
                async with client.get(base + path) as response:
                    assert response.status == 200, path
            async with client.post(
                base + "/hooks/alertmanager",
                json=notification(alert("HighErrorRate", service="web", severity="critical")),
                headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
            ) as response:
                assert response.status == 200
            chart = re.search(r"/charts/([a-z0-9-]+)\.png", "\n".join(s.text for s in adapter.sent))
            assert chart is not None
            async with client.get(f"{base}/charts/{chart.group(1)}.png") as response:
                assert response.status == 200
        await app.settle()
        assert len(adapter.sent) > 5
    finally:
        await runner.cleanup()
        await app.stop()
        event.remove(engine, "before_cursor_execute", record)
        engine.dispose()
    assert on_loop == []


@pytest.mark.postgres
async def test_on_postgres_a_command_waiting_on_a_lock_holds_up_no_other(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    adapter = RecordingAdapter()
    clock = VirtualClock(START)
    app = Application(
        settings=Settings(database_url=postgres_url),
        config=load(None),
        engine=engine,
        clock=clock,
        adapters={adapter.platform: adapter},
        seed=0,
    )
    other = make_engine(postgres_url)  # another process's connection
    await app.start()
    h = Harness(app, adapter, clock)
    try:
        with other.connect() as connection, connection.begin():
            connection.execute(text("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE"))
            opening = asyncio.create_task(h.say('/incident open "checkout down" --sev P1'))
            assert await asyncio.to_thread(lock_waiter_seen, connection)
            reminded = await asyncio.wait_for(h.say("/remind 10m check the canary"), 5)
            assert reminded.status == "ok", h.reply_text(reminded)
            assert not opening.done()
        opened = await asyncio.wait_for(opening, 10)
        assert opened.status == "ok", h.reply_text(opened)
        assert "#1" in h.reply_text(opened)
    finally:
        await app.stop()
        other.dispose()
        engine.dispose()


WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def lock_waiter_seen(connection: Connection) -> bool:
    """Whether, within 10 s, a session of this database comes to wait on a lock."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if connection.execute(WAITING_ON_A_LOCK).scalar():
            return True
        time.sleep(0.01)
    return False
