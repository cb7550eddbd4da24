"""A guard's readings over a release as inline SVG: the readings (each pixel column's
lowest to highest), the guard's limit drawn across, the moments traffic moved marked
with their stage.

Written here rather than with the reports' matplotlib (``bot/charts.py``): a page
carries its charts inline, so they take the page's fonts and colours, scale with it,
and need no second request or image route; matplotlib's SVG of one week-long panel is
hundreds of kilobytes of glyph paths and takes far longer than the page's 100 ms to
draw. The database has already cut the readings into one bucket per pixel column
(``storage.repositories.guard_readings.series``), so what is drawn is at most
``PLOT_WIDTH`` short strokes whatever the span."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from commands.releases.pages import Mark
from playbooks.releases.plan import Guard
from storage.repositories.guard_readings import Bucket

WIDTH = 720
HEIGHT = 190
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 22, 22
PLOT_WIDTH = WIDTH - LEFT - RIGHT  # one bucket per pixel column
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
# A gap of more than this many guard intervals (or two columns) between buckets breaks
# the line: nobody read the guard then, and a line across would say otherwise.
GAP_INTERVALS = 3


@dataclass(frozen=True, slots=True)
class Words:
    """What the chart says, already in the viewer's language."""

    title: str  # "crash_rate (limit > 0.5%)"
    summary: str  # the chart's text alternative
    limit: str  # "limit"
    when: Callable[[datetime], str]  # a time in the viewer's timezone


def guard_chart(
    guard: Guard,
    buckets: Sequence[Bucket],
    *,
    start: datetime,
    end: datetime,
    marks: Sequence[Mark],
    words: Words,
    chart_id: str,
) -> Markup:
    span = max((end - start).total_seconds(), 1.0)
    limits = [v for v in (guard.max, guard.min) if v is not None]
    low, high = _range([b.low for b in buckets] + limits, [b.high for b in buckets] + limits)

    def x(at: datetime) -> float:
        return LEFT + min(max((at - start).total_seconds() / span, 0.0), 1.0) * PLOT_WIDTH

    def y(value: float) -> float:
        return TOP + (1 - (value - low) / (high - low)) * PLOT_HEIGHT

    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(words.title)}</title>',
        f'<desc id="{chart_id}-d">{escape(words.summary)}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_WIDTH}" height="{PLOT_HEIGHT}" '
        'fill="#f6f8fa" stroke="#d0d7de"/>',
    ]
    parts += _y_axis(guard, low, high, y)
    parts += _stage_marks(marks, x)
    column = timedelta(seconds=span / PLOT_WIDTH)
    parts.append(_readings(buckets, x, y, gap=max(guard.interval * GAP_INTERVALS, column * 2)))
    for value in limits:
        at = y(value)
        parts.append(
            f'<g class="limit"><line x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" y1="{at:.1f}" '
            f'y2="{at:.1f}" stroke="#cf222e" stroke-dasharray="6 4"/>'
            f'<text x="{LEFT + PLOT_WIDTH - 4}" y="{at - 4:.1f}" text-anchor="end" '
            f'fill="#cf222e" font-size="11">{escape(words.limit)} {escape(guard.show(value))}'
            "</text></g>"
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="11" fill="#57606a">'
        f"{escape(words.when(start))}</text>"
        f'<text x="{LEFT + PLOT_WIDTH}" y="{HEIGHT - 6}" font-size="11" fill="#57606a" '
        f'text-anchor="end">{escape(words.when(end))}</text></svg>'
    )
    # Every text in it went through escape() above; the rest are numbers and constants.
    return Markup("".join(parts))  # noqa: S704


def _range(lows: Sequence[float], highs: Sequence[float]) -> tuple[float, float]:
    """The values the y axis spans: every reading and limit, with a little room, from 0
    when everything is above it (rates and latencies read best from zero)."""
    if not lows:
        return 0.0, 1.0
    low, high = min(lows), max(highs)
    if low >= 0:
        low = 0.0
    room = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    return low, high + room


def _y_axis(guard: Guard, low: float, high: float, y: Callable[[float], float]) -> list[str]:
    return [
        f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="11" '
        f'fill="#57606a">{escape(guard.show(_round(value)))}</text>'
        for value in (low, (low + high) / 2, high)
    ]


def _round(value: float) -> float:
    return float(f"{value:.3g}")


def _stage_marks(marks: Sequence[Mark], x: Callable[[datetime], float]) -> list[str]:
    found = []
    for mark in marks:
        at = x(mark.at)
        label = f"{mark.stage} {mark.percent:g}%" if mark.percent or mark.stage != "-" else "0%"
        found.append(
            f'<g class="stage-mark" data-move="{mark.move.value}"><line x1="{at:.1f}" '
            f'x2="{at:.1f}" y1="{TOP}" y2="{TOP + PLOT_HEIGHT}" stroke="#57606a" '
            f'stroke-dasharray="2 3"/><text x="{at + 3:.1f}" y="{TOP - 6}" font-size="11" '
            f'fill="#57606a">{escape(label)}</text></g>'
        )
    return found


def _readings(
    buckets: Sequence[Bucket],
    x: Callable[[datetime], float],
    y: Callable[[float], float],
    *,
    gap: timedelta,
) -> str:
    """One path: each column from its lowest to its highest reading, joined to the next
    unless nobody read the guard in between."""
    path: list[str] = []
    previous: datetime | None = None
    for bucket in buckets:
        column = x(bucket.start)
        joined = previous is not None and bucket.start - previous <= gap
        path.append(f"{'L' if joined else 'M'}{column:.1f} {y(bucket.low):.1f}")
        if bucket.high != bucket.low or not joined:
            path.append(f"V{y(bucket.high):.1f}")
        previous = bucket.start
    d = "".join(path) or "M0 0"
    return (
        f'<path class="readings" d="{d}" fill="none" stroke="#0969da" stroke-width="1.5" '
        'stroke-linejoin="round" stroke-linecap="round"/>'
    )
