"""``heartbeats.yaml``: scheduled work that must call in on time (a dead man's switch)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.releases import Duration
from bot.i18n import LOCALES, Translator
from playbooks.incidents.heartbeats import Heartbeat
from playbooks.messages import t

Level = Literal["P0", "P1", "P2", "P3"]
NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"  # it is a part of the hook's URL


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeartbeatEntry(_Strict):
    name: str = Field(pattern=NAME)
    service: str = Field(min_length=1, max_length=100)
    interval: Duration
    grace: Duration = timedelta(minutes=5)
    severity: Level = "P2"

    @field_validator("interval")
    @classmethod
    def _not_too_often(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("a heartbeat is checked once a minute at most; give 1m or more")
        return value


class HeartbeatsFile(_Strict):
    heartbeats: list[HeartbeatEntry] = Field(default_factory=list)

    @field_validator("heartbeats")
    @classmethod
    def _unique(cls, value: list[HeartbeatEntry]) -> list[HeartbeatEntry]:
        seen: set[str] = set()
        for entry in value:
            if entry.name in seen:
                raise ValueError(f"the heartbeat {entry.name!r} is declared twice")
            seen.add(entry.name)
        return value

    def to_settings(self) -> dict[str, Heartbeat]:
        return {
            e.name: Heartbeat(
                name=e.name,
                service=e.service,
                interval=e.interval,
                grace=e.grace,
                severity=e.severity,
                titles=_titles(e),
            )
            for e in self.heartbeats
        }


def _titles(e: HeartbeatEntry) -> tuple[tuple[str, str], ...]:
    """Its incident's title in each language: worded once, as it never changes."""
    said = t("heartbeat.title", name=e.name, after=e.interval + e.grace)
    return tuple((locale, Translator(locale, UTC)(said)) for locale in LOCALES)
