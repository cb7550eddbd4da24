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


def size(panels: int) -> tuple[int, int]:
    """The chart's size in pixels: one panel per metric, stacked."""
    return WIDTH_PX, PANEL_PX * max(panels, 1)


def render(title: str, panels: Sequence[Panel]) -> bytes:
    """A PNG of ``panels`` (CPU-bound: call it in a thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = size(len(panels))
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(max(len(panels), 1), 1, squeeze=False)[:, 0]
    figure.suptitle(title, fontsize=11)
    for axes, panel in zip(axes_list, panels, strict=False):
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
    figure.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.08, hspace=0.55)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


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
