"""Health, readiness and metrics over real HTTP on loopback."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.http import serve
from bot.settings import Settings
from storage import migrate
from storage.engine import make_engine
from tests.conftest import START, HarnessFactory
from tests.fakes.adapters import RecordingAdapter


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


@pytest.mark.usefixtures("database_url")
async def test_health_ready_and_metrics(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/remind 10m a")
    await h.say("/remind 10x a")
    await h.say("/remind 1m fires now")
    await h.advance(minutes=1)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        assert await get(port, "/healthz") == (200, '{"status": "ok"}')
        status, body = await get(port, "/readyz")
        assert status == 200
        ready = json.loads(body)
        assert ready["status"] == "ready"
        # Alone on its database, this process holds every one-owner duty.
        assert ready["duties"] == ["guard-ticks"]
        assert ready["instance"] == h.app.replica.instance_id
        status, metrics = await get(port, "/metrics")
        assert status == 200
        assert 'shipwatch_duty_held{duty="guard-ticks"} 1.0' in metrics
        assert 'shipwatch_commands_total{command="remind",outcome="ok"} 2.0' in metrics
        assert 'shipwatch_commands_total{command="-",outcome="usage"} 1.0' in metrics
        assert 'shipwatch_outbox_messages{state="pending"} 0.0' in metrics
        assert 'shipwatch_outbox_messages{state="sent"} 1.0' in metrics
        # The reminder still pending, the web team's next handoff, the three shipped
        # reports, the asks for notes before the daily and the weekly report, and the
        # housekeeping sweep.
        assert "shipwatch_timers_armed 8.0" in metrics
        assert 'shipwatch_deliveries_total{platform="console"} 1.0' in metrics
        assert 'shipwatch_commands_total{command="timer:reminder.due",outcome="ok"} 1.0' in metrics
    finally:
        await runner.cleanup()


async def test_not_ready_until_migrated(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)  # no migrations applied
    app = Application(
        settings=Settings(database_url=sqlite_url),
        config=load(None),
        engine=engine,
        clock=VirtualClock(START),
        adapters={"console": RecordingAdapter()},
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    try:
        status, body = await get(port, "/readyz")
        assert status == 503
        assert "migrations" in body
        assert (await get(port, "/healthz"))[0] == 200
    finally:
        await runner.cleanup()
        engine.dispose()


async def test_not_ready_until_started(sqlite_url: str) -> None:
    """A load balancer sends no traffic to a process still starting (migrated, serving
    HTTP, but its timers, adapters and duties not yet running)."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    app = Application(
        settings=Settings(database_url=sqlite_url),
        config=load(None),
        engine=engine,
        clock=VirtualClock(START),
        adapters={"console": RecordingAdapter()},
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    try:
        assert (await get(port, "/readyz"))[0] == 503
        await app.start()
        assert (await get(port, "/readyz"))[0] == 200
    finally:
        await runner.cleanup()
        await app.stop()
        engine.dispose()
