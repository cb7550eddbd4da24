"""Prometheus metrics for one Application (its own registry: no global state)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class Metrics:
    def __init__(
        self,
        *,
        outbox_depth: Callable[[], dict[str, int]],
        timers_armed: Callable[[], int],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "shipwatch_commands",
            "Invocations handled, by command and outcome.",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "shipwatch_delivery_failures",
            "Failed delivery attempts, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "shipwatch_deliveries",
            "Messages delivered, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.registry.register(_Live(outbox_depth, timers_armed))
        # Each (command, outcome) pair's counter, found once: a repeat in a storm is
        # counted thousands of times a second, and ``labels()`` checks and locks each time.
        self._handled: dict[tuple[str, str], Counter] = {}

    def handled(self, command: str, outcome: str) -> None:
        """Count one invocation of ``command`` that ended ``outcome``."""
        counter = self._handled.get((command, outcome))
        if counter is None:
            counter = self._handled[command, outcome] = self.commands.labels(command, outcome)
        counter.inc()

    def add_duties(self, names: Callable[[], list[str]], holds: Callable[[str], bool]) -> None:
        """A gauge per duty: 1 while this replica holds it, 0 while another does."""
        self.registry.register(_Duties(names, holds))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Live(Collector):
    """Gauges read at scrape time from the database, the source of truth."""

    def __init__(
        self, outbox_depth: Callable[[], dict[str, int]], timers_armed: Callable[[], int]
    ) -> None:
        self._outbox_depth = outbox_depth
        self._timers_armed = timers_armed

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "shipwatch_outbox_messages", "Outbox messages by state.", labels=["state"]
        )
        for state, count in sorted(self._outbox_depth().items()):
            depth.add_metric([state], count)
        yield depth
        yield GaugeMetricFamily(
            "shipwatch_timers_armed", "Durable timers waiting to fire.", value=self._timers_armed()
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


class _Duties(Collector):
    def __init__(self, names: Callable[[], list[str]], holds: Callable[[str], bool]) -> None:
        self._names = names
        self._holds = holds

    def collect(self) -> Iterator[GaugeMetricFamily]:
        held = GaugeMetricFamily(
            "shipwatch_duty_held",
            "Whether this replica holds a duty that needs one owner (1) or not (0).",
            labels=["duty"],
        )
        for name in self._names():
            held.add_metric([name], 1 if self._holds(name) else 0)
        yield held

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
