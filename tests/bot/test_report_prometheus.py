"""Range queries for report charts against a real Prometheus server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.metric_sources.base import MetricQuery, Series
from bot.metric_sources.prometheus import PrometheusSource
from tests.fakes.prometheus_server import PrometheusServer

pytestmark = pytest.mark.prometheus


@pytest.fixture
async def source(prometheus: PrometheusServer) -> AsyncIterator[PrometheusSource]:
    async with aiohttp.ClientSession() as session:

        async def provide() -> aiohttp.ClientSession:
            return session

        yield PrometheusSource(prometheus.url, timeout=timedelta(seconds=5), session=provide)


def metric(expr: str) -> MetricQuery:
    return MetricQuery(guard="availability", expr=expr, service="charted", version="", stage="")


async def test_a_range_query_gives_the_chart_its_points(
    prometheus: PrometheusServer, source: PrometheusSource
) -> None:
    prometheus.exporter.inc("http_requests_total", {"service": "charted", "code": "200"}, by=5)
    await prometheus.wait_for_samples(
        'count_over_time(http_requests_total{service="charted"}[1m]) >= 3'
    )
    end = datetime.now(UTC)
    series = await source.query_range(
        metric('sum(http_requests_total{service="charted"})'),
        start=end - timedelta(seconds=30),
        end=end,
        step=timedelta(seconds=1),
    )
    assert series.error is None, series.error
    assert len(series.points) >= 3
    assert all(value == 5 for _, value in series.points)
    second = timedelta(seconds=1)  # Prometheus keeps milliseconds
    assert all(end - 31 * second <= when <= end + second for when, _ in series.points)


async def test_a_range_query_without_series_or_with_a_typo_says_why(
    source: PrometheusSource,
) -> None:
    end = datetime.now(UTC)
    span = {"start": end - timedelta(minutes=5), "end": end, "step": timedelta(seconds=15)}
    missing = await source.query_range(metric('up{job="no-such-job"}'), **span)  # type: ignore[arg-type]
    assert missing == Series(no_data="the query returned no series")
    broken = await source.query_range(metric("sum(up"), **span)  # type: ignore[arg-type]
    assert broken.error is not None
    assert broken.error.startswith("prometheus rejected the query: bad_data: ")
