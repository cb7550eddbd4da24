"""The metric source contract: one query at one instant gives one ``Reading``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from playbooks.releases.guards import Reading


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """A guard's query, already filled in with the release's service, version and stage."""

    guard: str
    expr: str
    service: str
    version: str
    stage: str
    simulated: float | None = None  # a simulated source's value when none was set


@dataclass(frozen=True, slots=True)
class Series:
    """Values over time for a chart, or why there are none (``no_data`` or ``error``)."""

    points: tuple[tuple[datetime, float], ...] = ()
    no_data: str | None = None
    error: str | None = None


class MetricSource(Protocol):
    async def query(self, query: MetricQuery, at: datetime) -> Reading:
        """The value at ``at``; ``Reading(no_data=...)`` or ``Reading(error=...)`` with the
        reason otherwise. Never raises for a source's own failures."""
        ...

    async def query_range(
        self, query: MetricQuery, *, start: datetime, end: datetime, step: timedelta
    ) -> Series:
        """The values from ``start`` to ``end`` every ``step``; never raises either."""
        ...


def fill(template: str, *, service: str, version: str, stage: str) -> str:
    """Put the release into a query: ``{service}``, ``{version}`` and ``{stage}``.

    Only those three placeholders are replaced, so PromQL's own braces are left
    alone; values are escaped for use inside a double-quoted label matcher.
    """
    text = template
    for name, value in (("service", service), ("version", version), ("stage", stage)):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        text = text.replace("{" + name + "}", escaped)
    return text
