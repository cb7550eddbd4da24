"""A release watched by a real Prometheus: PromQL ``rate()`` over counters the test
controls drives an automatic rollback.

Prometheus scrapes on the wall clock, so the bot's virtual clock follows real time a
couple of seconds behind (the instants it queries have been scraped by then). The
test waits for Prometheus, an outside process, never for one of Shipwatch's timers:
those fire only when the test advances the clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import ReleaseRow
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.prometheus_server import PrometheusServer

pytestmark = pytest.mark.prometheus

LAG = timedelta(seconds=2)
LABELS = {"service": "shop", "version": "3.1.0"}
PLAN = """\
name: fast
stages:
  - {name: canary, percent: 10%, soak: 10m}
  - {name: full, percent: 100%}
guards:
  - name: error_ratio
    query: >-
      sum(rate(shop_requests_total{service="{service}",version="{version}",code="500"}[5s]))
      / sum(rate(shop_requests_total{service="{service}",version="{version}"}[5s]))
    max: 5%
    for: 3s
    interval: 1s
    max_unknown: 1m
    action: rollback
"""


def services(url: str) -> str:
    return f"""\
services:
  shop:
    plan: fast
    release_channel: "#releases"
    traffic: {{backend: simulated}}
    metrics: {{source: prometheus, url: "{url}", timeout: 2s}}
"""


def state(h: Harness) -> ReleaseRow:
    with unit_of_work(h.app.engine) as session:
        return session.exec(select(ReleaseRow)).one()


async def follow(
    h: Harness, prometheus: PrometheusServer, *, errors: int, until: str, within: float
) -> ReleaseRow:
    """Serve traffic (``errors`` of every 100 requests fail) while the bot's clock follows
    real time, until the release reaches ``until`` or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    ok = {**LABELS, "code": "200"}
    bad = {**LABELS, "code": "500"}
    while time.monotonic() < deadline:
        prometheus.exporter.inc("shop_requests_total", ok, by=100 - errors)
        prometheus.exporter.inc("shop_requests_total", bad, by=errors)
        target = datetime.now(UTC) - LAG
        if target > h.clock.now():
            await h.app.advance_to(target)
        row = state(h)
        if row.state == until:
            return row
        await asyncio.sleep(0.2)  # real traffic for the real Prometheus to scrape
    return state(h)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_real_rate_over_the_threshold_rolls_the_release_back(
    make_harness: HarnessFactory, prometheus: PrometheusServer, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    (config / "plans").mkdir(parents=True)
    (config / "plans" / "fast.yaml").write_text(PLAN, encoding="utf-8")
    (config / "services.yaml").write_text(services(prometheus.url), encoding="utf-8")
    for code in ("200", "500"):
        prometheus.exporter.inc("shop_requests_total", {**LABELS, "code": code}, by=0)
    await prometheus.wait_for_samples('shop_requests_total{service="shop"}')

    h = await make_harness(config_dir=config, start=datetime.now(UTC) - LAG)
    assert (await h.say("/release start shop 3.1.0")).status == "ok"

    healthy = await follow(h, prometheus, errors=1, until="rolled_back", within=6)
    assert healthy.state == "in_stage", "1% errors is under the 5% threshold"
    reading = healthy.guards["error_ratio"]
    assert reading["verdict"] == "ok"
    assert 0.005 <= reading["value"] <= 0.02

    broken = await follow(h, prometheus, errors=30, until="rolled_back", within=30)
    assert broken.state == "rolled_back", prometheus.log_tail()
    assert broken.guards["error_ratio"]["verdict"] == "breach"
    assert broken.guards["error_ratio"]["value"] > 0.05
    assert h.app.integrations.simulated_traffic.applied[-1] == (
        "shop",
        0.0,
        "release-1-a1-rollback",
    )
    posts = [s.text for s in h.adapter.sent if s.address == "#releases"]
    assert any("Guard error_ratio read" in p and "(> 5%)" in p for p in posts), posts
