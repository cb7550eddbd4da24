"""A metric source for drills: ``:metric NAME VALUE`` sets what guard NAME reads."""

from __future__ import annotations

from datetime import datetime

from bot.metric_sources.base import MetricQuery
from playbooks.guards import Reading


class SimulatedSource:
    """Values by guard name, the same for every release; a name never set has no data."""

    def __init__(self) -> None:
        self._readings: dict[str, Reading] = {}

    def set(self, guard: str, value: float) -> None:
        self._readings[guard] = Reading.of(value)

    def fail(self, guard: str, reason: str) -> None:
        self._readings[guard] = Reading(error=reason)

    def clear(self, guard: str) -> None:
        self._readings.pop(guard, None)

    async def query(self, query: MetricQuery, at: datetime) -> Reading:
        return self._readings.get(query.guard) or Reading(no_data="no value set (use :metric)")
