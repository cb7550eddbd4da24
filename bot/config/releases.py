"""``services.yaml`` and ``plans/*.yaml``: what gets released, through which stages,
watched by which guards, with traffic moved by which backend.

The domain gets ``Service`` and ``Plan`` (``playbooks.releases.plan``); the URLs and
the names of the environment variables holding secrets stay here, with the runtime.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.config.launch import LaunchEntries
from bot.config.procedures import RollbackRunbookEntry
from commands.core.grammar import parse_duration
from playbooks.errors import UsageError
from playbooks.releases.plan import (
    Evidence,
    Guard,
    GuardAction,
    Plan,
    ReleaseCatalog,
    Stage,
    TrafficKind,
    plan_problems,
)

NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"{value!r} has no unit; write it like 30s, 5m, 2h or 1d")
    try:
        return parse_duration(str(value))
    except UsageError as error:
        if error.text.key == "grammar.zero_duration":
            raise ValueError(
                f"{value!r} is no time at all; give a duration longer than zero"
            ) from None
        raise ValueError(f"{value!r} is not a duration; write it like 30s, 5m, 2h or 1d") from None


def _stage_percent(value: Any) -> float:
    """``10``, ``10%`` or ``0.5%``: a share of traffic, in percent."""
    text = str(value).strip().removesuffix("%")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a percentage; write it like 10 or 10%") from None


def _threshold(value: Any) -> float | None:
    """A plain number (``0.005``) or a percentage (``0.5%``, read as 0.005)."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        number = float(text.removesuffix("%"))
    except ValueError:
        raise ValueError(f"{value!r} is not a number; write it like 0.005 or 0.5%") from None
    if not math.isfinite(number):  # NaN, inf, or past what a float holds (1e309)
        raise ValueError(f"{value!r} is not a number a reading can cross; give a finite limit")
    if text.endswith("%") and not 0 <= number <= 100:
        raise ValueError(
            f"{value!r} is out of range; a limit in percent is between 0% and 100%, "
            "or a reading could never cross it"
        )
    return number / 100 if text.endswith("%") else number


def _name(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(NAME, text):
        raise ValueError(
            f"{text!r} is not a name Shipwatch accepts; use lowercase letters, digits, "
            "'.', '_' or '-' (like gray-miniprogram or error_rate)"
        )
    return text


def _env_name(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    if not re.fullmatch(ENV_NAME, text):
        raise ValueError(
            f"{text!r} is not an environment variable name; use capitals, digits and '_' "
            "(like SHIPWATCH_API_TRAFFIC_SECRET); the secret itself belongs in the environment"
        )
    return text


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Name = Annotated[str, BeforeValidator(_name)]
EnvName = Annotated[str | None, BeforeValidator(_env_name)]
StagePercent = Annotated[float, BeforeValidator(_stage_percent)]
Threshold = Annotated[float | None, BeforeValidator(_threshold)]


def _probe(data: dict[str, Any]) -> dict[str, Any]:
    """``probe: URL`` (a core-function guard, seed 003 §9.1): GET the URL; a failing
    answer reads 1, so the guard breaches above ``max: 0``."""
    url = str(data["probe"]).strip()
    if "query" in data:
        raise ValueError("give a guard either query or probe, not both")
    if not re.match(r"^https?://", url):
        raise ValueError(f"probe {url!r} is not an http:// or https:// URL")
    rest = {k: v for k, v in data.items() if k != "probe"}
    return {"max": 0, **rest, "query": f"probe: {url}"}


def _target(value: Any) -> float:
    """A stage target: ``0.1%`` or ``< 0.1%`` (a value every sample stays below)."""
    number = _threshold(str(value).strip().removeprefix("<").strip())
    if number is None:
        raise ValueError("a target needs a value, like 0.1%")
    return number


Target = Annotated[float, BeforeValidator(_target)]
OWNER = r"^(owner|@?[a-z0-9][a-z0-9._-]{0,63})$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StageEntry(_Strict):
    name: str = Field(min_length=1, max_length=40)
    percent: StagePercent
    soak: Duration | None = None
    approvals: int = Field(default=0, ge=0, le=10)
    targets: dict[Name, Target] = Field(default_factory=dict)


class GuardEntry(_Strict):
    name: Name
    query: str = Field(min_length=1, max_length=4000)
    max: Threshold = None
    min: Threshold = None
    window: Duration = Field(alias="for")
    interval: Duration = timedelta(seconds=30)
    max_unknown: Duration = timedelta(minutes=5)
    action: GuardAction
    percent: bool = False  # shown as percentages; set when max or min is written "0.5%"

    @model_validator(mode="before")
    @classmethod
    def _written_as_percent(cls, data: Any) -> Any:
        if isinstance(data, dict) and "probe" in data:
            data = _probe(data)
        if isinstance(data, dict) and "percent" not in data:
            written = [str(data.get(k, "")).strip() for k in ("max", "min")]
            if any(w.endswith("%") for w in written):
                return {**data, "percent": True}
        return data


class PlanFile(LaunchEntries):
    name: Name
    description: str = ""
    auto_promote: bool = False
    evidence: Evidence = Evidence.SOAK
    stages: list[StageEntry]
    guards: list[GuardEntry] = Field(default_factory=list)
    decision: list[Annotated[str, Field(pattern=OWNER)]] = Field(
        default_factory=lambda: ["owner"], min_length=1
    )
    rollback_reasons: dict[Name, Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=dict
    )

    rollback_runbook: RollbackRunbookEntry | None = None

    def to_plan(self) -> Plan:
        return Plan(
            name=self.name,
            description=self.description,
            auto_promote=self.auto_promote,
            evidence=self.evidence,
            stages=tuple(
                Stage(s.name, s.percent, s.soak, s.approvals, tuple(s.targets.items()))
                for s in self.stages
            ),
            guards=tuple(
                Guard(
                    name=g.name,
                    query=g.query,
                    window=g.window,
                    action=g.action,
                    max=g.max,
                    min=g.min,
                    interval=g.interval,
                    max_unknown=g.max_unknown,
                    percent=g.percent,
                )
                for g in self.guards
            ),
            launch=self.to_launch(),
            decision=tuple(self.decision),
            rollback_reasons=tuple(self.rollback_reasons.items()),
            rollback_runbook=(
                self.rollback_runbook.to_procedure(f"{self.name} rollback")
                if self.rollback_runbook is not None
                else None
            ),
        )


class TrafficEntry(_Strict):
    backend: TrafficKind = TrafficKind.SIMULATED
    url: str | None = None  # webhook: where to POST; unleash: the server's base URL
    secret_env: EnvName = None  # the variable holding a webhook's signing secret
    token_env: EnvName = None  # the variable holding an Unleash admin token
    project: str = "default"
    feature: str | None = None
    environment: str = "production"
    strategy_id: str | None = None
    timeout: Duration = timedelta(seconds=10)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value


class MetricsEntry(_Strict):
    source: Literal["simulated", "prometheus"] = "simulated"
    url: str | None = None
    timeout: Duration = timedelta(seconds=5)


class ServiceEntry(_Strict):
    plan: str
    release_channel: str = Field(min_length=1, max_length=200)
    team: str | None = None
    incident_channel: str | None = None
    tier: str | None = None
    traffic: TrafficEntry = TrafficEntry()
    metrics: MetricsEntry = MetricsEntry()


class ServicesFile(_Strict):
    services: dict[Name, ServiceEntry] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What the runtime needs to move a service's traffic and read its metrics."""

    traffic: TrafficEntry
    metrics: MetricsEntry


@dataclass(frozen=True, slots=True)
class ReleaseConfig:
    catalog: ReleaseCatalog
    settings: Mapping[str, ServiceSettings]


def backend_problems(name: str, entry: ServiceEntry) -> list[tuple[str, str]]:
    """Settings a backend cannot work without, as (field, sentence) pairs."""
    problems: list[tuple[str, str]] = []
    traffic = entry.traffic
    where = f"services.{name}.traffic"
    if traffic.backend is TrafficKind.WEBHOOK:
        if traffic.url is None:
            problems.append((f"{where}.url", "the webhook backend needs url"))
        if traffic.secret_env is None:
            problems.append(
                (
                    f"{where}.secret_env",
                    "the webhook backend needs secret_env (an env variable name)",
                )
            )
    if traffic.backend is TrafficKind.UNLEASH:
        for needed in ("url", "token_env", "feature", "strategy_id"):
            if getattr(traffic, needed) is None:
                problems.append((f"{where}.{needed}", f"the unleash backend needs {needed}"))
    if entry.metrics.source == "prometheus" and entry.metrics.url is None:
        problems.append((f"services.{name}.metrics.url", "the prometheus source needs url"))
    return problems


def plan_files(config_dir: Path | None, defaults: Path) -> dict[str, Path]:
    """Shipped plans, then the config dir's ``plans/``: a file of the same name wins."""
    found = {p.name: p for p in sorted((defaults / "plans").glob("*.yaml"))}
    if config_dir is not None and (config_dir / "plans").is_dir():
        found.update({p.name: p for p in sorted((config_dir / "plans").glob("*.yaml"))})
    return found


def check_plan(plan: PlanFile) -> list[tuple[str, str]]:
    return plan_problems(plan.to_plan())
