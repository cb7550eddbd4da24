"""Build each service's metric source and traffic backend from config and environment."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.config.releases import ReleaseConfig, ServiceSettings
from bot.http_client import HttpClient
from bot.metric_sources.base import MetricQuery, MetricSource, fill
from bot.metric_sources.probe import ProbeSource, is_probe
from bot.metric_sources.simulated import SimulatedSource
from bot.traffic.simulated import SimulatedTraffic
from playbooks.effects import Measure
from playbooks.messages import t
from playbooks.releases.guards import Reading
from playbooks.releases.plan import TrafficKind

if TYPE_CHECKING:
    from bot.traffic.base import TrafficBackend

# A health check that takes longer than this is as good as down.
PROBE_TIMEOUT = timedelta(seconds=5)


class MissingSecret(Exception):
    """A backend's secret is named in config but absent from the environment."""

    def __init__(self, service: str, variable: str) -> None:
        super().__init__(
            f"service {service!r} needs the environment variable {variable}, which is not set; "
            "set it (in .env, say) or change the service's traffic backend"
        )


@dataclass(slots=True)
class Integrations:
    """What the bot reads metrics from and moves traffic with, per service."""

    sources: dict[str, MetricSource] = field(default_factory=dict)
    traffic: dict[str, TrafficBackend] = field(default_factory=dict)
    simulated_metrics: SimulatedSource = field(default_factory=SimulatedSource)
    simulated_traffic: SimulatedTraffic = field(default_factory=SimulatedTraffic)
    probe: MetricSource | None = None  # core-function probes (``probe: URL`` guards)

    async def measure(self, m: Measure) -> dict[str, Reading]:
        """Every guard's reading at ``m.at``, read concurrently. A probe guard is read by
        the probe source, except for a simulated service (drills set it with :metric)."""
        service_source = self.sources.get(m.service)

        async def one(name: str, expr: str) -> tuple[str, Reading]:
            if service_source is None:
                return name, Reading(error=t("metrics.service_unknown", service=m.service))
            source = service_source
            if is_probe(expr) and self.probe is not None and source is not self.simulated_metrics:
                source = self.probe
            query = MetricQuery(
                guard=name,
                expr=fill(expr, service=m.service, version=m.version, stage=m.stage_name),
                service=m.service,
                version=m.version,
                stage=m.stage_name,
            )
            return name, await source.query(query, m.at)

        pairs = await asyncio.gather(*(one(g.name, g.query) for g in m.guards))
        return dict(pairs)


def build(
    config: ReleaseConfig, http: HttpClient, env: Mapping[str, str] | None = None
) -> Integrations:
    env = os.environ if env is None else env
    built = Integrations()
    built.probe = ProbeSource(timeout=PROBE_TIMEOUT, session=http.session)
    for name, settings in config.settings.items():
        built.sources[name] = _source(settings, http, built)
        built.traffic[name] = _traffic(name, settings, http, built, env)
    return built


def _source(settings: ServiceSettings, http: HttpClient, built: Integrations) -> MetricSource:
    metrics = settings.metrics
    if metrics.source == "prometheus" and metrics.url is not None:
        # A backend's module (and aiohttp) only where a service uses it.
        from bot.metric_sources.prometheus import PrometheusSource

        return PrometheusSource(metrics.url, timeout=metrics.timeout, session=http.session)
    return built.simulated_metrics


def _traffic(
    service: str,
    settings: ServiceSettings,
    http: HttpClient,
    built: Integrations,
    env: Mapping[str, str],
) -> TrafficBackend:
    traffic = settings.traffic

    def secret(variable: str | None) -> str:
        value = env.get(variable or "")
        if not value:
            raise MissingSecret(service, variable or "?")
        return value

    if traffic.backend is TrafficKind.WEBHOOK and traffic.url:
        from bot.traffic.webhook import WebhookTraffic

        return WebhookTraffic(
            traffic.url,
            secret=secret(traffic.secret_env),
            timeout=traffic.timeout,
            session=http.session,
        )
    if traffic.backend is TrafficKind.UNLEASH and traffic.url:
        assert traffic.feature is not None
        assert traffic.strategy_id is not None
        from bot.traffic.unleash import UnleashTraffic

        return UnleashTraffic(
            traffic.url,
            token=secret(traffic.token_env),
            project=traffic.project,
            feature=traffic.feature,
            environment=traffic.environment,
            strategy_id=traffic.strategy_id,
            timeout=traffic.timeout,
            session=http.session,
        )
    # simulated, and manual (a person applies it; the bot never sends one)
    return built.simulated_traffic
