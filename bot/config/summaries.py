"""``summaries.yaml``: the metrics of the morning health post and the daily and weekly
reports, each with its query, unit, target and alarm limit."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.config.releases import Duration, Name
from bot.config.zone import OptionalZone
from playbooks.errors import UsageError
from playbooks.reports.metrics import (
    Bound,
    ConfiguredSubscription,
    MetricSpec,
    SummarySettings,
    Unit,
)
from playbooks.reports.schedule import DEFAULT_AT, ReportKind, parse_at


def _amount(value: Any) -> float | None:
    """``0.005``, ``0.5%`` (0.005), ``100ms`` (0.1 seconds) or ``2s``."""
    if value is None:
        return None
    text = str(value).strip().lower()
    scale = 1.0
    for suffix, factor in (("%", 0.01), ("ms", 0.001), ("s", 1.0)):
        if text.endswith(suffix):
            text, scale = text.removesuffix(suffix).strip(), factor
            break
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a number; write it like 0.005, 0.5%, 100ms or 2s"
        ) from None
    if not math.isfinite(number):  # NaN, inf, or past what a float holds (1e309)
        raise ValueError(f"{value!r} is not a number a reading can cross; give a finite limit")
    return round(number * scale, 12)  # 99.9% is 0.999, not 0.9990000000000001


Amount = Annotated[float | None, BeforeValidator(_amount)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BoundEntry(_Strict):
    min: Amount = None
    max: Amount = None

    def to_bound(self) -> Bound:
        return Bound(min=self.min, max=self.max)


class MetricEntry(_Strict):
    query: str = Field(min_length=1)
    unit: Unit = Unit.COUNT
    target: BoundEntry = Field(default_factory=BoundEntry)
    alert: BoundEntry = Field(default_factory=BoundEntry)
    chart: bool = False
    simulated: Amount = None


SEED_002_TIERS: dict[str, float | None] = {"core": 0.999, "agent": 0.995, "support": 0.99}


class SlaEntry(_Strict):
    """Availability objectives by service tier (a service's ``tier`` in services.yaml)."""

    metric: Name = "availability"
    # seed 002's tiers, also for a summaries.yaml that names none
    tiers: dict[Name, Amount] = Field(default_factory=lambda: dict(SEED_002_TIERS))


class SubscriptionEntry(_Strict):
    report: ReportKind
    channel: str = Field(min_length=1, max_length=200)
    at: str | None = None
    services: list[Name] = Field(default_factory=list)
    timezone: OptionalZone = None
    enabled: bool = True

    @model_validator(mode="after")
    def _time(self) -> SubscriptionEntry:
        try:
            parse_at(self.at or DEFAULT_AT[self.report], kind=self.report)
        except UsageError as error:
            raise ValueError(f"{self.at!r} is not a time for a {self.report.value} report") from (
                error
            )
        return self


class NotesEntry(_Strict):
    """Who is asked for the report sections only people know, and how long before."""

    ask: list[str] = Field(default_factory=list)
    before: Duration = timedelta(hours=1)


class SummariesFile(_Strict):
    timezone: OptionalZone = None
    notes: NotesEntry = NotesEntry()
    subscriptions: list[SubscriptionEntry] = Field(default_factory=list)
    metrics: dict[Name, MetricEntry] = Field(default_factory=dict)
    sla: SlaEntry = SlaEntry()

    def to_settings(self) -> SummarySettings:
        return SummarySettings(
            metrics=tuple(
                MetricSpec(
                    name=name,
                    query=entry.query,
                    unit=entry.unit,
                    target=entry.target.to_bound(),
                    alert=entry.alert.to_bound(),
                    chart=entry.chart,
                    simulated=entry.simulated,
                )
                for name, entry in self.metrics.items()
            ),
            timezone=self.timezone,
            sla_metric=self.sla.metric,
            notes_ask=tuple(self.notes.ask),
            notes_before=self.notes.before,
            sla_tiers={tier: value for tier, value in self.sla.tiers.items() if value is not None},
            subscriptions=tuple(
                ConfiguredSubscription(
                    report=entry.report.value,
                    channel=entry.channel,
                    at=entry.at or DEFAULT_AT[entry.report],
                    services=tuple(entry.services),
                    timezone=entry.timezone,
                    enabled=entry.enabled,
                )
                for entry in self.subscriptions
            ),
        )
