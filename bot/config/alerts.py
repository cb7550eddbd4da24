"""``alerts.yaml``: how alerts from monitoring become incidents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.releases import Duration
from playbooks.incidents.alerts import AlertSettings, SeverityMatch

Level = Literal["P0", "P1", "P2", "P3"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityRuleEntry(_Strict):
    labels: dict[str, str] = Field(min_length=1)
    severity: Level


class AlertsFile(_Strict):
    severity: list[SeverityRuleEntry] = Field(default_factory=list)
    default_severity: Level = "P3"
    by_alertname: dict[str, Level] = Field(default_factory=dict)
    service_labels: list[str] = Field(default_factory=lambda: ["service", "job"])
    channel: str = Field(default="#incidents", min_length=1)
    storm_window: Duration = Field(default_factory=lambda: AlertSettings().storm_window)
    resolve_when_resolved: bool = True

    @field_validator("severity", mode="before")
    @classmethod
    def _stringify(cls, value: object) -> object:
        """``page: true`` in YAML is a boolean; Alertmanager labels are always text."""
        if isinstance(value, list):
            return [
                {**rule, "labels": {k: _label(v) for k, v in rule.get("labels", {}).items()}}
                if isinstance(rule, dict) and isinstance(rule.get("labels"), dict)
                else rule
                for rule in value
            ]
        return value

    def to_settings(self) -> AlertSettings:
        return AlertSettings(
            severity_rules=tuple(SeverityMatch(r.labels, r.severity) for r in self.severity),
            default_severity=self.default_severity,
            by_alertname=dict(self.by_alertname),
            service_labels=tuple(self.service_labels),
            channel=self.channel,
            storm_window=self.storm_window,
            resolve_when_resolved=self.resolve_when_resolved,
        )


def _label(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
