"""Report charts: the key metrics over the report's span with their limits drawn, as PNG.

Drawn with matplotlib's Agg canvas on a Figure of its own (no pyplot, no display, no
global state), so rendering can run in a worker thread off the event loop.
"""

from __future__ import annotations

import io
import random
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from playbooks.effects import ResponseBar
from playbooks.reports.metrics import Bound, MetricSpec, Unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH_PX = 1000
PANEL_PX = 250
DPI = 100
_ALPHABET = string.ascii_lowercase + string.digits
_SCALE = {Unit.RATIO: (100.0, "%"), Unit.SECONDS: (1000.0, "ms"), Unit.COUNT: (1.0, "")}


@dataclass(frozen=True, slots=True)
class Panel:
    spec: MetricSpec
    lines: Mapping[str, Sequence[tuple[datetime, float]]]  # service → points
    note: str = ""  # why a service has no line


@dataclass(frozen=True, slots=True)
class Bars:
    """The response figures by severity: median minutes to acknowledge and to resolve,
    side by side, each severity labelled with how many incidents were opened at it."""

    bars: Sequence[ResponseBar]


def size(panels: int) -> tuple[int, int]:
    """The chart's size in pixels: one panel per metric, stacked."""
    return WIDTH_PX, PANEL_PX * max(panels, 1)


def render(title: str, panels: Sequence[Panel | Bars]) -> bytes:
    """A PNG of ``panels`` (CPU-bound: call it in a thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = size(len(panels))
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(max(len(panels), 1), 1, squeeze=False)[:, 0]
    figure.suptitle(title, fontsize=11)
    for axes, panel in zip(axes_list, panels, strict=False):
        if isinstance(panel, Bars):
            _bars(axes, panel)
            continue
        scale, unit = _SCALE[panel.spec.unit]
        for service, points in panel.lines.items():
            if points:
                axes.plot(
                    [p[0] for p in points], [p[1] * scale for p in points], label=service, lw=1.4
                )
        _limits(axes, panel.spec.target, scale, colour="#2e7d32", name="target")
        _limits(axes, panel.spec.alert, scale, colour="#c62828", name="alert")
        axes.set_title(panel.spec.name + (f" ({unit})" if unit else ""), fontsize=9, loc="left")
        if panel.note:
            axes.text(
                0.99, 0.05, panel.note[:120], transform=axes.transAxes, ha="right", fontsize=7
            )
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend(fontsize=7, loc="upper left")
    # room for the title above the first panel, however few panels there are
    top = min(0.9, 1 - 50 / height)
    figure.subplots_adjust(left=0.07, right=0.98, top=top, bottom=0.08, hspace=0.55)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _bars(axes: Axes, panel: Bars) -> None:
    """Grouped bars per severity; a severity with nothing acknowledged or resolved has no
    bar (not a bar of zero, which would read as instant)."""
    width = 0.38
    where = range(len(panel.bars))
    for shift, name, colour, values in (
        (-width / 2, "MTTA", "#1565c0", [b.mtta for b in panel.bars]),
        (width / 2, "MTTR", "#ef6c00", [b.mttr for b in panel.bars]),
    ):
        pairs = zip(where, values, strict=True)
        shown = [(x + shift, v.total_seconds() / 60) for x, v in pairs if v]
        if shown:
            axes.bar([x for x, _ in shown], [v for _, v in shown], width, label=name, color=colour)
    axes.set_xticks(list(where), [f"{b.severity}: {b.opened} opened" for b in panel.bars])
    axes.set_xlim(-0.6, len(panel.bars) - 0.4)
    axes.set_title("median minutes to acknowledge and resolve, by severity", fontsize=9, loc="left")
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.3, axis="y")
    if axes.patches:
        axes.legend(fontsize=7, loc="upper left")


def _limits(axes: Axes, bound: Bound, scale: float, *, colour: str, name: str) -> None:
    for value in (bound.min, bound.max):
        if value is not None:
            axes.axhline(value * scale, color=colour, ls="--", lw=1, label=name)


def chart_ids(rng: random.Random | None) -> Callable[[], str]:
    """Chart ids: unguessable in production (the route needs no token, so platforms
    without uploads can show the image), seeded in drills so their output repeats."""
    if rng is None:
        return lambda: secrets.token_urlsafe(16)
    return lambda: "".join(rng.choice(_ALPHABET) for _ in range(12))
