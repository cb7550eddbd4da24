"""Settings from ``SHIPWATCH_*`` environment variables and ``.env`` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
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
    # A request body must arrive whole within this (else 408), and a connection that sends
    # no request for the idle time is closed: a stalled client holds nothing for long.
    http_body_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    http_idle_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_backoff_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_cap_seconds: float = Field(default=600.0, gt=0)
    # Inbound hooks: each route is closed until its token is set.
    alertmanager_token: SecretStr | None = None
    incident_hook_token: SecretStr | None = None
    grafana_token: SecretStr | None = None
    heartbeat_token: SecretStr | None = None
    api_token: SecretStr | None = None  # reading documents over HTTP (postmortems)
    hook_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Where Shipwatch reports messages it could not deliver (a channel gone, the bot
    # removed from it): "#shipwatch-admin" on the first chat platform, or "slack:C0123".
    admin_channel: str | None = None
    # Where people reach this server from outside (action links, charts).
    public_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://\S+$")
    # Slack: HTTP mode (POST /slack/events) with the signing secret; Socket Mode when the
    # app-level token is set too. The API URL is Slack's own unless a test points it away.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Telegram: long polling, or a webhook served at POST /telegram/webhook.
    telegram_token: SecretStr | None = None
    telegram_mode: str = Field(default="polling", pattern="^(polling|webhook)$")
    telegram_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    # A forum supergroup (its numeric id) where each incident gets a topic as its room: a
    # bot cannot create groups. The bot must be an admin there allowed to manage topics.
    telegram_forum_chat: str | None = None
    # DingTalk: the enterprise robot's callback secret; robots per channel live in the
    # config directory. Feishu: robots per channel in the config directory.
    dingtalk_app_secret: SecretStr | None = None
    dingtalk_api_url: str = "https://oapi.dingtalk.com"
    # DingTalk's app robot sends direct messages (pages) with the app key and secret; its
    # robot code is the app key unless set. Its API is on another host than the robots'.
    dingtalk_app_key: str | None = None
    dingtalk_robot_code: str | None = None
    dingtalk_app_api_url: str = "https://api.dingtalk.com"
    feishu_api_url: str = "https://open.feishu.cn"
    # Feishu's app bot: direct messages and answers with the app id and secret; commands
    # typed to it arrive at POST /feishu/events, checked with the verification token.
    feishu_app_id: str | None = None
    feishu_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    # Discord: an application's interactions endpoint (POST /discord/interactions), each
    # request checked against its public key (hex, from the application's General
    # Information page); posts and direct messages through the REST API with the bot token.
    # An incident's room is a thread in the rooms channel (a channel id) when it is set.
    discord_bot_token: SecretStr | None = None
    discord_application_id: str | None = None
    discord_public_key: str | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_rooms_channel: str | None = None
    # Mattermost: a bot account's personal access token for the REST API v4 at the server's
    # URL; custom slash commands post to /mattermost/command with their token (one for all,
    # or a comma-separated list, one per command). Channels by name ("#ops") are looked up
    # in the team named here, where incident rooms are made too (O public, P private).
    mattermost_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    mattermost_token: SecretStr | None = None
    mattermost_command_tokens: SecretStr | None = None
    mattermost_team: str | None = None
    mattermost_room_type: str = Field(default="P", pattern="^(O|P)$")
    # DingTalk and Feishu buttons only open links: each becomes a one-time link to
    # {public_url}/act/…, signed with this secret (needed when either platform runs).
    # Mattermost's buttons call back with a context signed with it too.
    action_link_secret: SecretStr | None = None
    # The web console: /web sends a sign-in link that works once within this many minutes;
    # the session it opens lasts this many hours (SHIPWATCH_WEB_SESSION_HOURS).
    web_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    web_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Email, SMS and push through Apprise: how long one send may take before it counts as
    # failed (the outbox retries it, or a page goes on by its next way).
    apprise_timeout: float = Field(default=30.0, gt=0, le=300)
    # Reports: how late a missed report may still be posted; a spread of sends off the
    # minute (Feishu throttles sends on the hour).
    summary_grace_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    summary_jitter_minutes: int = Field(default=0, ge=0, le=30)
    # Rows whose work is done (sent messages, fired timers, the ledger's event ids, expired
    # buttons, guard readings) are deleted once older than this many days, in a daily sweep.
    keep_days: int = Field(default=30, ge=1, le=3650)

    @model_validator(mode="after")
    def _jitter_within_grace(self) -> Settings:
        if self.summary_jitter_minutes > self.summary_grace_minutes:
            raise ValueError(
                f"SHIPWATCH_SUMMARY_JITTER_MINUTES ({self.summary_jitter_minutes}) is more than "
                f"SHIPWATCH_SUMMARY_GRACE_MINUTES ({self.summary_grace_minutes}); a report "
                "spread that far would be past its grace window, so keep the jitter at most "
                "the grace"
            )
        return self

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
    def mattermost_wanted(self) -> bool:
        """Any Mattermost setting given: the platform is meant to run (and each missing
        piece is said at check and at start)."""
        return any(
            value is not None
            for value in (
                self.mattermost_url,
                self.mattermost_token,
                self.mattermost_command_tokens,
                self.mattermost_team,
            )
        )

    def mattermost_missing(self) -> list[str]:
        """The settings Mattermost needs and lacks (none when it is not wanted)."""
        if not self.mattermost_wanted:
            return []
        missing = []
        if not self.mattermost_url:
            missing.append("SHIPWATCH_MATTERMOST_URL")
        if self.mattermost_token is None or not self.mattermost_token.get_secret_value():
            missing.append("SHIPWATCH_MATTERMOST_TOKEN")
        if not self.mattermost_command_token_list():
            missing.append("SHIPWATCH_MATTERMOST_COMMAND_TOKENS")
        return missing

    def secret_values(self) -> list[str]:
        """Every secret setting's value, for the log formatter to hide wherever it shows."""
        values = (getattr(self, name) for name in type(self).model_fields)
        found = [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
        return found + self.mattermost_command_token_list()

    def mattermost_command_token_list(self) -> list[str]:
        """Each slash command's token (one setting, comma-separated)."""
        tokens = self.mattermost_command_tokens
        if tokens is None:
            return []
        return [part.strip() for part in tokens.get_secret_value().split(",") if part.strip()]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
