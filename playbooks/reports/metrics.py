"""The metrics a report shows, their targets, and how a reading is judged and written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from playbooks.messages import Text, raw, t
from playbooks.releases.guards import Reading

# Names the catalog knows how to say; any other configured metric is shown as named.
KNOWN_METRICS = (
    "availability",
    "p95_latency",
    "avg_response_time",
    "error_rate",
    "error_count",
    "active_users",
)


class Unit(StrEnum):
    RATIO = "ratio"  # 0.995 is shown as 99.50%
    SECONDS = "seconds"  # 0.082 is shown as 82 ms
    COUNT = "count"


class Mark(StrEnum):
    OK = "ok"
    WARN = "warn"
    BAD = "bad"
    INFO = "info"  # no target: shown, never judged
    NO_DATA = "no_data"


EMOJI = {Mark.OK: "✅", Mark.WARN: "⚠️", Mark.BAD: "❌", Mark.INFO: "•", Mark.NO_DATA: "⚪"}


@dataclass(frozen=True, slots=True)
class Bound:
    """Within it when at least ``min`` and at most ``max`` (either may be absent)."""

    min: float | None = None
    max: float | None = None

    @property
    def empty(self) -> bool:
        return self.min is None and self.max is None

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    query: str  # PromQL with {service} and {window}
    unit: Unit = Unit.COUNT
    target: Bound = Bound()
    alert: Bound = Bound()  # beyond it the metric is in alarm (❌); between, ⚠️
    chart: bool = False
    simulated: float | None = None  # what a simulated source reads when none was set


@dataclass(frozen=True, slots=True)
class SummarySettings:
    metrics: tuple[MetricSpec, ...] = ()
    timezone: str | None = None  # subscriptions' default; else SHIPWATCH_TIMEZONE
    grace: timedelta = timedelta(hours=2)
    jitter: timedelta = timedelta(0)
    # Seed 002's availability SLAs by service tier, judged on this metric's reading.
    sla_metric: str = "availability"
    sla_tiers: Mapping[str, float] = field(default_factory=dict)
    # Reports summaries.yaml subscribes a channel to, so they run with no command.
    subscriptions: tuple[ConfiguredSubscription, ...] = ()
    # Who is asked, this long before the daily and weekly reports, for what only people
    # know: "@person" (a direct message) or "#channel".
    notes_ask: tuple[str, ...] = ()
    notes_before: timedelta = timedelta(hours=1)

    def charted(self) -> tuple[MetricSpec, ...]:
        return tuple(m for m in self.metrics if m.chart)


@dataclass(frozen=True, slots=True)
class ConfiguredSubscription:
    """A report summaries.yaml asks for: ``report`` (daily, evening, weekly) posted to
    ``channel`` at ``at``; ``enabled: false`` turns a shipped one off."""

    report: str
    channel: str
    at: str
    services: tuple[str, ...] = ()
    timezone: str | None = None  # else summaries.yaml's timezone, else SHIPWATCH_TIMEZONE
    enabled: bool = True

    @property
    def origin(self) -> str:
        return f"config:{self.report}:{self.channel}"


def judge(spec: MetricSpec, reading: Reading) -> Mark:
    if reading.value is None:
        return Mark.NO_DATA
    if spec.target.empty:
        return Mark.INFO
    if spec.target.holds(reading.value):
        return Mark.OK
    if not spec.alert.empty and spec.alert.holds(reading.value):
        return Mark.WARN
    return Mark.BAD


def show(spec: MetricSpec, value: float) -> str:
    """A value as people read it, the same in every language."""
    if spec.unit is Unit.RATIO:
        return f"{value * 100:.2f}%"
    if spec.unit is Unit.SECONDS:
        return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.2f}"


def show_bound(spec: MetricSpec, bound: Bound) -> str:
    parts = []
    if bound.min is not None:
        parts.append(f"> {show(spec, bound.min)}")
    if bound.max is not None:
        parts.append(f"< {show(spec, bound.max)}")
    return ", ".join(parts) or "-"


def label(name: str) -> Text:
    return t(f"summary.metric.{name}") if name in KNOWN_METRICS else raw(name)


def sla_line(tier: str, objective: float, reading: Reading | None) -> Text:
    """A service's availability SLA (seed 002) against the availability measured over the
    report's period: met, missed, or not measured."""
    shown = f"{objective * 100:g}%"
    if reading is None or reading.value is None:
        return t("summary.sla_unmeasured", mark=EMOJI[Mark.NO_DATA], tier=tier, objective=shown)
    met = reading.value >= objective
    return t(
        "summary.sla_met" if met else "summary.sla_missed",
        mark=EMOJI[Mark.OK if met else Mark.BAD],
        tier=tier,
        objective=shown,
        value=f"{reading.value * 100:.2f}%",
    )


def line(spec: MetricSpec, reading: Reading) -> Text:
    """One metric's row: verdict, value and target, or "no data" with the reason."""
    mark = judge(spec, reading)
    target = show_bound(spec, spec.target)
    if reading.value is None:
        reason = reading.error or reading.no_data or "-"
        return t(
            "summary.metric_no_data" if not spec.target.empty else "summary.metric_no_data_plain",
            mark=EMOJI[mark],
            metric=label(spec.name),
            reason=reason,
            target=target,
        )
    key = "summary.metric_untargeted" if mark is Mark.INFO else "summary.metric_line"
    return t(
        key,
        mark=EMOJI[mark],
        metric=label(spec.name),
        value=show(spec, reading.value),
        target=target,
    )
