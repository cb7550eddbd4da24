"""``robots.yaml``: the DingTalk and Feishu robots (group webhooks) of each channel."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from bot.config.releases import EnvName

_CHANNEL = re.compile(r"^[#@][^\s]{1,199}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,200}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RobotEntry(_Strict):
    # The robot's access token (DingTalk) or hook id (Feishu), or the whole webhook URL
    # as the platform shows it; never a secret, which is named by secret_env instead.
    webhook: str = Field(min_length=1)
    secret_env: EnvName = None
    # DingTalk: the group's conversationId, so commands typed there are answered as this
    # channel (news of a release started there goes to its release channel, say).
    conversation: str | None = Field(default=None, max_length=200)

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value: str) -> str:
        value = value.strip()
        if re.match(r"^https?://", value) or _TOKEN.match(value):
            return value
        raise ValueError(
            f"{value!r} is neither a webhook URL nor a robot token; paste the robot's "
            "webhook address, or the access_token / hook id at its end"
        )


def _channel(name: str) -> str:
    if not _CHANNEL.match(name):
        raise ValueError(
            f'{name!r} is not a channel; name it like "#releases" (quoted in YAML), '
            'or "@USER_ID" for a person\'s own robot'
        )
    return name


ChannelName = Annotated[str, AfterValidator(_channel)]


class RobotsFile(_Strict):
    dingtalk: dict[ChannelName, RobotEntry] = Field(default_factory=dict)
    feishu: dict[ChannelName, RobotEntry] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Robot:
    """One robot ready to send: where, and the signing secret read from the environment."""

    channel: str
    webhook: str
    secret: str | None
    conversation: str | None = None


class MissingRobotSecret(Exception):
    def __init__(self, platform: str, channel: str, variable: str) -> None:
        super().__init__(
            f"the {platform} robot of {channel} needs the environment variable {variable}, "
            "which is not set; set it (in .env, say) to the robot's signing secret (加签)"
        )


def robots(
    entries: Mapping[str, RobotEntry], *, platform: str, environ: Mapping[str, str] | None = None
) -> dict[str, Robot]:
    """The robots of one platform with their secrets, by channel."""
    env = os.environ if environ is None else environ
    built: dict[str, Robot] = {}
    for channel, entry in entries.items():
        secret = None
        if entry.secret_env is not None:
            secret = env.get(entry.secret_env)
            if not secret:
                raise MissingRobotSecret(platform, channel, entry.secret_env)
        built[channel] = Robot(channel, entry.webhook, secret, entry.conversation)
    return built
