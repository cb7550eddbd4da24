"""The core-function guard (seed 003 §9.1 核心功能不可用): a health-check URL read by an HTTP
GET against a real local server; failing for the guard's ``for`` rolls the release back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config.directory import load
from bot.config.releases import MetricsEntry, ReleaseConfig, ServiceSettings, TrafficEntry
from bot.http_client import HttpClient
from bot.i18n import Translator
from bot.integrations import build
from bot.metric_sources.base import MetricQuery
from bot.metric_sources.probe import ProbeSource
from playbooks.effects import Conversation, GuardQuery, Measure
from playbooks.releases import machine, watch
from playbooks.releases.guards import Reading
from playbooks.releases.machine import Release, ReleaseState
from playbooks.releases.plan import Plan, ReleaseCatalog, TrafficKind
from tests.fakes.loopback import serve

ENGLISH = Translator("en", UTC)  # reasons are catalog text: read them as an English reader does

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class Health:
    """A service's /health: answers what the test says, or hangs."""

    def __init__(self) -> None:
        self.status = 200
        self.hang = False
        self.url = ""
        self.hits = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.hang:
            await asyncio.sleep(5)
        return web.Response(status=self.status, text="ok" if self.status == 200 else "down")


@pytest.fixture
async def health() -> AsyncIterator[Health]:
    server = Health()
    app = web.Application()
    app.router.add_get("/health", server.handle)
    runner, base = await serve(app)
    server.url = f"{base}/health"
    try:
        yield server
    finally:
        await runner.cleanup()


async def read(url: str, *, within: float = 2.0) -> float | None:
    async with aiohttp.ClientSession() as client:

        async def provide() -> aiohttp.ClientSession:
            return client

        source = ProbeSource(timeout=timedelta(seconds=within), session=provide)
        query = MetricQuery("core", f"probe: {url}", "web", "1.0.0", "canary")
        reading = await source.query(query, AT)
        assert reading.error is None, reading
        assert reading.no_data is None, reading
        return reading.value


async def test_a_2xx_answer_reads_0_and_anything_else_reads_1(health: Health) -> None:
    assert await read(health.url) == 0
    health.status = 503
    assert await read(health.url) == 1
    health.status = 302  # a redirect to a login page is not a healthy core function
    assert await read(health.url) == 1
    assert health.hits == 3


async def test_no_answer_in_time_or_no_server_reads_1(health: Health) -> None:
    health.hang = True
    assert await read(health.url, within=0.2) == 1
    assert await read("http://127.0.0.1:9/health") == 1  # nothing listens there


async def test_a_probe_guard_is_read_by_the_probe_even_for_a_prometheus_service(
    health: Health,
) -> None:
    health.status = 500
    http = HttpClient()
    settings = ServiceSettings(
        TrafficEntry(),
        MetricsEntry(source="prometheus", url="http://127.0.0.1:9/unused"),
    )
    built = build(ReleaseConfig(ReleaseCatalog(), {"web": settings}), http, env={})
    try:
        readings = await built.measure(
            Measure(
                release_id=1,
                attempt=1,
                stage=0,
                at=AT,
                service="web",
                version="1.0.0",
                stage_name="canary",
                source="prometheus",
                guards=(GuardQuery("core_function", f"probe: {health.url}"),),
            )
        )
    finally:
        await http.close()
    assert readings["core_function"].value == 1
    assert health.hits == 1


def test_a_failing_probe_rolls_back_after_its_for(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "probed.yaml").write_text(
        "name: probed\n"
        "stages:\n"
        "  - {name: canary, percent: 10%, soak: 30m}\n"
        "  - {name: full, percent: 100%}\n"
        "guards:\n"
        "  - {name: core_function, probe: 'https://web.example/health', for: 1m, "
        "action: rollback}\n",
        encoding="utf-8",
    )
    plan: Plan = load(tmp_path).releases.catalog.plans["probed"]
    [guard] = plan.guards
    assert (guard.query, guard.max) == ("probe: https://web.example/health", 0)
    r: Release = machine.start(
        Release(
            id=1,
            service="web",
            version="1.0.0",
            plan=plan,
            state=ReleaseState.PENDING,
            stage=-1,
            percent=0,
            owner="alice",
            attempt=1,
            channel=Conversation("console", "#releases"),
            traffic=TrafficKind.SIMULATED,
            metrics="prometheus",
            started_at=AT,
        ),
        now=AT,
    ).release
    at = AT
    for _ in range(2):  # down at 0s and 30s: not yet its minute
        r = watch.evaluate(r, {"core_function": Reading.of(1)}, at=at, now=at).release
        at += timedelta(seconds=30)
    assert r.state is ReleaseState.IN_STAGE
    result = watch.evaluate(r, {"core_function": Reading.of(1)}, at=at, now=at)
    assert result.release.state is ReleaseState.ROLLED_BACK
    assert ENGLISH(result.history[-1].reason) == "guard core_function: 1 > 0"
