"""Settings from ``SHIPWATCH_*`` environment variables and ``.env`` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/shipwatch.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHIPWATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    config_dir: Path | None = None
    locale: str = Field(default="en", pattern="^(en|zh)$")
    timezone: str = "UTC"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_backoff_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_cap_seconds: float = Field(default=600.0, gt=0)
    # Inbound hooks: each route is closed until its token is set.
    alertmanager_token: SecretStr | None = None
    incident_hook_token: SecretStr | None = None
    api_token: SecretStr | None = None  # reading documents over HTTP (postmortems)
    hook_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Reports: where people's browsers (and platforms) reach Shipwatch, for chart links;
    # how late a missed report may still be posted; a spread of sends off the minute.
    public_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://\S+$")
    summary_grace_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    summary_jitter_minutes: int = Field(default=0, ge=0, le=30)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name like Asia/Shanghai"
            ) from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def platforms_configured(self) -> list[str]:
        """Chat platforms whose settings are present; none yet means the console."""
        return []
