"""A metric source for drills: ``:metric NAME VALUE`` sets what metric NAME reads."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bot.i18n import Translator
from bot.metric_sources.base import MetricQuery, Series
from playbooks.messages import Text, as_text, t
from playbooks.releases.guards import Reading

# A chart of a constant is a flat line; a gentle daily wave shows the axes work and stays
# the same from run to run (it depends on the time only).
_WAVE = 0.1
_DAY = 86400.0
STOP_SUFFIX = "_stop"


class SimulatedSource:
    """Values by metric name, the same for every service. A name never set reads the
    query's simulated default, or has no data. A stop-tier guard (``crash_rate_stop``)
    reads its metric (``crash_rate``) unless set itself: one ``:metric`` moves both tiers."""

    def __init__(self) -> None:
        self._readings: dict[str, Reading] = {}

    def set(self, guard: str, value: float) -> None:
        self._readings[guard] = Reading.of(value)

    def fail(self, guard: str, reason: str) -> None:
        self._readings[guard] = Reading(error=reason)

    def clear(self, guard: str) -> None:
        self._readings.pop(guard, None)

    def _reading(self, query: MetricQuery) -> Reading:
        found = self._readings.get(query.guard)
        if found is None and query.guard.endswith(STOP_SUFFIX):
            found = self._readings.get(query.guard.removesuffix(STOP_SUFFIX))
        if found is not None:
            return found
        if query.simulated is not None:
            return Reading.of(query.simulated)
        return Reading(no_data=t("guard.why.not_set"))

    async def query(self, query: MetricQuery, at: datetime) -> Reading:
        return self._reading(query)

    async def query_range(
        self, query: MetricQuery, *, start: datetime, end: datetime, step: timedelta
    ) -> Series:
        reading = self._reading(query)
        if reading.value is None:
            return Series(no_data=_english(reading.no_data), error=_english(reading.error))
        points = []
        when = start
        while when <= end:
            wave = 1 + _WAVE * math.sin(2 * math.pi * (when.timestamp() % _DAY) / _DAY)
            value = reading.value
            # A ratio near 100% (availability) waves in what it lacks, never past 100%.
            value = 1 - (1 - value) * wave if 0.5 <= value <= 1 else value * wave
            points.append((when, value))
            when += step
        return Series(points=tuple(points))


def _english(why: Text | str | None) -> str | None:
    """A chart's note is read by operators, in English like the rest of its labels."""
    return Translator("en", UTC)(as_text(why)) if why is not None else None
