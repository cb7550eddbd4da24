"""The reads a report asks for, made outside any transaction: each service's metrics now
(concurrently), each charted metric's series, and the chart drawn in a worker thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from bot import charts
from bot.metric_sources.base import MetricQuery, MetricSource, Series, fill
from commands.reports.runs import ReportReadings
from playbooks.effects import ReadReport, ReportMetric
from playbooks.messages import t
from playbooks.releases.guards import Reading
from playbooks.reports.metrics import MetricSpec

log = logging.getLogger("shipwatch.reports")


def _query(metric: ReportMetric, service: str, window: str) -> MetricQuery:
    # {window} is Shipwatch's own range notation (24h, 900s), never a person's text.
    expr = fill(metric.query.replace("{window}", window), service=service, version="", stage="")
    return MetricQuery(
        guard=metric.name,
        expr=expr,
        service=service,
        version="",
        stage="",
        simulated=metric.simulated,
    )


async def gather(
    read: ReadReport,
    *,
    sources: Mapping[str, MetricSource],
    specs: Sequence[MetricSpec],
    new_chart_id: Callable[[], str],
) -> ReportReadings:
    """The observation payload: readings by service and metric, and the chart (or why
    there is none)."""

    async def instant(service: str, metric: ReportMetric) -> tuple[str, str, Reading]:
        source = sources.get(service)
        if source is None:
            return (
                service,
                metric.name,
                Reading(error=t("metrics.service_unknown", service=service)),
            )
        return (
            service,
            metric.name,
            await source.query(_query(metric, service, read.window), read.at),
        )

    async def series(service: str, metric: ReportMetric) -> tuple[str, str, Series]:
        source = sources.get(service)
        if source is None:
            return service, metric.name, Series(error=f"service {service!r} is not configured")
        step = _promql(read.chart_step)
        found = await source.query_range(
            _query(metric, service, step), start=read.chart_start, end=read.at, step=read.chart_step
        )
        return service, metric.name, found

    charted = [m for m in read.metrics if m.chart]
    instants, ranges = await asyncio.gather(
        asyncio.gather(*(instant(s, m) for s in read.services for m in read.metrics)),
        asyncio.gather(*(series(s, m) for s in read.services for m in charted)),
    )
    readings: dict[str, dict[str, Reading]] = {s: {} for s in read.services}
    for service, name, reading in instants:
        readings[service][name] = reading
    read_back = ReportReadings(request=read.request, readings=readings)
    by_name = {spec.name: spec for spec in specs}
    panels = [
        _panel(by_name[m.name], [(s, found) for s, name, found in ranges if name == m.name])
        for m in charted
        if m.name in by_name
    ]
    drawn: list[charts.Panel | charts.Bars] = list(panels)
    if not any(points for panel in panels for points in panel.lines.values()):
        reasons = {found.error or found.no_data or "" for _, _, found in ranges} - {""}
        note = "; ".join(sorted(reasons)) or "no metric is charted"
        if not read.response:
            return replace(read_back, chart_note=note)
        drawn = []  # the response figures alone
    if read.response:
        drawn.append(charts.Bars(read.response))
    span = f"{read.chart_start:%Y-%m-%d %H:%M} – {read.at:%Y-%m-%d %H:%M} UTC"
    title = f"{', '.join(read.services)} · {span}"
    try:
        png = await asyncio.to_thread(charts.render, title, drawn)
        return replace(read_back, chart=png, chart_token=new_chart_id())
    except Exception:  # a drawing bug must not cost the report its text
        log.exception("chart could not be drawn")  # the details stay in the log
        return replace(read_back, chart_failed=True)


def _panel(spec: MetricSpec, found: Sequence[tuple[str, Series]]) -> charts.Panel:
    missing = [f"{s}: {f.error or f.no_data}" for s, f in found if not f.points]
    return charts.Panel(spec=spec, lines={s: f.points for s, f in found}, note="; ".join(missing))


def _promql(step: timedelta) -> str:
    return f"{int(step.total_seconds())}s"
