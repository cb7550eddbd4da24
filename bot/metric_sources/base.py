"""The metric source contract: one query at one instant gives one ``Reading``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from playbooks.guards import Reading


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """A guard's query, already filled in with the release's service, version and stage."""

    guard: str
    expr: str
    service: str
    version: str
    stage: str


class MetricSource(Protocol):
    async def query(self, query: MetricQuery, at: datetime) -> Reading:
        """The value at ``at``; ``Reading(no_data=...)`` or ``Reading(error=...)`` with the
        reason otherwise. Never raises for a source's own failures."""
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
