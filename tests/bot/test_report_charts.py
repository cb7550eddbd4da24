"""Report charts: a valid PNG of the expected size, stored with the post, served over real
HTTP at /charts/<id>.png; and a report whose Prometheus is down still posts its other parts."""

from __future__ import annotations

import json
import re
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import charts
from bot.http import serve
from playbooks.effects import ResponseBar
from playbooks.reports.metrics import Bound, MetricSpec, Unit
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
CHART_URL = re.compile(r"^\[chart\] http://127\.0\.0\.1:8080/charts/([a-z0-9-]+)\.png$", re.M)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert (length, chunk) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


def test_a_chart_is_a_png_of_one_panel_per_metric() -> None:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    points = [(start + timedelta(minutes=15 * i), 0.99 + i / 10_000) for i in range(97)]
    panels = [
        charts.Panel(
            MetricSpec("availability", "q", Unit.RATIO, Bound(min=0.995)), {"web": points}
        ),
        charts.Panel(
            MetricSpec("p95_latency", "q", Unit.SECONDS, Bound(max=0.1), Bound(max=0.2)),
            {"web": [(when, 0.08) for when, _ in points], "api": []},
            note="api: the query returned no series",
        ),
    ]
    data = charts.render("web · last 24h", panels)
    assert png_size(data) == charts.size(2) == (1000, 500)


async def get(port: int, path: str, **headers: str) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as response,
    ):
        return response.status, response.content_type, await response.read()


async def test_the_chart_of_a_report_is_served_over_http(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    reply = await h.say("/summary now")
    assert "Preparing the morning health post" in h.reply_text(reply)
    [post] = [s for s in h.adapter.sent if "☀️ Morning health post" in s.text]
    [chart_id] = CHART_URL.findall(post.text)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        status, content_type, body = await get(port, f"/charts/{chart_id}.png")
        assert (status, content_type) == (200, "image/png")
        assert png_size(body) == charts.size(3)  # availability, P95 latency, error rate
        status, content_type, body = await get(
            port, "/charts/nope.png", **{"Accept-Language": "zh"}
        )
        assert (status, content_type) == (404, "application/json")
        assert json.loads(body) == {"error": "没有这个编号的图表。"}
    finally:
        await runner.cleanup()


async def test_prometheus_down_still_posts_incidents_releases_and_on_call(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "services.yaml").write_text(
        "services:\n"
        "  web:\n"
        "    plan: standard\n"
        "    team: web\n"
        "    release_channel: '#releases'\n"
        "    traffic: {backend: simulated}\n"
        "    metrics: {source: prometheus, url: 'http://127.0.0.1:9', timeout: 2s}\n",
        encoding="utf-8",
    )
    h = await make_harness(config_dir=tmp_path)
    await h.say('/incident open "Checkout errors" --sev P2 --service web')
    await h.say("/summary now daily --service web")
    [post] = [s for s in h.adapter.sent if "☀️ Morning health post" in s.text]
    # one row per shipped metric
    assert (
        post.text.count("no data — cannot reach prometheus at http://127.0.0.1:9") == 6
    )  # every shipped metric
    assert "0.00%" not in post.text
    assert "Open incidents: 1 (P0 0 · P1 0 · P2 1 · P3 0)" in post.text
    assert "  [P2] #1 Checkout errors — open; respond within 30m, resolve within 8h" in post.text
    assert "Releases in progress: 0" in post.text
    assert "  web · Primary: @bob" in post.text
    assert "Chart: none (cannot reach prometheus at http://127.0.0.1:9" in post.text
    assert "[chart]" not in post.text


def test_the_response_figures_draw_as_bars_even_with_nothing_resolved() -> None:
    bars = charts.Bars(
        (
            ResponseBar("P0", 0),
            ResponseBar("P1", 2, mtta=timedelta(minutes=5), mttr=timedelta(hours=1)),
            ResponseBar("P2", 1),
            ResponseBar("P3", 0),
        )
    )
    assert png_size(charts.render("web · week", [bars])) == charts.size(1)
