"""PrometheusSource against a real Prometheus server scraping counters the test bumps.

Each test uses its own ``service`` label: the server and exporter are shared by the run.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.i18n import Translator
from bot.metric_sources.base import MetricQuery, fill
from bot.metric_sources.prometheus import PrometheusSource
from playbooks.messages import Text, as_text
from playbooks.releases.guards import Reading
from tests.fakes.prometheus_server import Exporter, PrometheusServer

pytestmark = pytest.mark.prometheus

ERROR_RATIO = (
    'sum(rate(http_requests_total{service="{service}",version="{version}",code=~"5.."}[10s]))'
    ' / sum(rate(http_requests_total{service="{service}",version="{version}"}[10s]))'
)


@pytest.fixture
async def source(prometheus: PrometheusServer) -> AsyncIterator[PrometheusSource]:
    async with aiohttp.ClientSession() as session:

        async def provide() -> aiohttp.ClientSession:
            return session

        yield PrometheusSource(prometheus.url, timeout=timedelta(seconds=5), session=provide)


def guard(template: str, *, service: str, version: str = "1.4.2") -> MetricQuery:
    expr = fill(template, service=service, version=version, stage="canary")
    return MetricQuery(guard="errors", expr=expr, service=service, version=version, stage="canary")


async def read(source: PrometheusSource, query: MetricQuery) -> Reading:
    """The reading, its reasons as an English reader reads them (they are catalog text)."""
    reading = await source.query(query, datetime.now(UTC))

    def said(why: Text | str | None) -> str | None:
        return Translator("en", UTC)(as_text(why)) if why is not None else None

    return Reading(value=reading.value, no_data=said(reading.no_data), error=said(reading.error))


async def test_error_ratio_from_real_counters(
    prometheus: PrometheusServer, source: PrometheusSource
) -> None:
    exporter: Exporter = prometheus.exporter
    ok = {"service": "web", "version": "1.4.2", "code": "200"}
    failed = {"service": "web", "version": "1.4.2", "code": "500"}
    other = {"service": "web", "version": "1.4.1", "code": "500"}  # the old version: not counted
    for labels in (ok, failed, other):
        exporter.inc("http_requests_total", labels, by=0)
    await prometheus.wait_for_samples('http_requests_total{service="web"}')

    exporter.inc("http_requests_total", ok, by=90)
    exporter.inc("http_requests_total", failed, by=10)
    exporter.inc("http_requests_total", other, by=500)
    await prometheus.wait_for_samples('sum(http_requests_total{service="web"}) >= 600')

    reading = await read(source, guard(ERROR_RATIO, service="web"))
    assert reading.error is None, reading.error
    assert reading.no_data is None, reading.no_data
    assert reading.value == pytest.approx(0.1, abs=0.01)


async def test_a_series_that_does_not_exist_is_no_data(source: PrometheusSource) -> None:
    reading = await read(source, guard(ERROR_RATIO, service="no-such-service"))
    assert reading == Reading(no_data="the query returned no series")


async def test_a_syntax_error_carries_prometheus_parse_error(source: PrometheusSource) -> None:
    broken = guard('sum(rate(http_requests_total{service="{service}"}[1m])', service="web")
    reading = await read(source, broken)
    assert reading.value is None
    assert reading.error is not None
    assert reading.error.startswith("prometheus rejected the query: bad_data: ")
    assert "parse error: unclosed left parenthesis" in reading.error


async def test_zero_over_zero_is_no_data(
    prometheus: PrometheusServer, source: PrometheusSource
) -> None:
    exporter = prometheus.exporter
    labels = {"service": "quiet", "version": "2.0.0"}
    exporter.inc("app_crashes_total", labels, by=0)
    exporter.inc("app_sessions_total", labels, by=0)
    crash_rate = (
        'sum(rate(app_crashes_total{service="{service}"}[10s]))'
        ' / sum(rate(app_sessions_total{service="{service}"}[10s]))'
    )
    # rate() needs two samples in its window: wait until both counters have them.
    await prometheus.wait_for_samples('rate(app_sessions_total{service="quiet"}[10s])')
    await prometheus.wait_for_samples('rate(app_crashes_total{service="quiet"}[10s])')

    query = guard(crash_rate, service="quiet")
    [raw] = (await prometheus.query(query.expr))["result"]
    assert math.isnan(float(raw["value"][1]))  # the server itself says NaN ...
    reading = await read(source, query)
    assert reading == Reading(no_data="the query returned nan")  # ... and the guard, no data


async def test_several_series_from_a_real_server_ask_for_sum(
    prometheus: PrometheusServer, source: PrometheusSource
) -> None:
    exporter = prometheus.exporter
    for code in ("200", "503"):
        exporter.inc("http_requests_total", {"service": "split", "code": code}, by=1)
    await prometheus.wait_for_samples('count(http_requests_total{service="split"}) == 2')
    reading = await read(source, guard('http_requests_total{service="{service}"}', service="split"))
    assert reading.error is not None
    assert "2 series" in reading.error
    assert "sum(...)" in reading.error
