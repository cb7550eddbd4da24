"""``channels.yaml``: the platforms' own ids of the channels Shipwatch knows by name.

Inside Shipwatch a channel is a name (``"#releases"`` in services.yaml, a language set
with /config locale, the echo filter); at the edge a platform wants its id (Telegram's
``-1001234567890``, Slack's ``C0123ABCD``). Posts to a name go to its id, and what is
typed in that chat arrives as the name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, RootModel

_NAME = re.compile(r"^#[^\s#]{1,199}$")


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f'{value!r} is not a channel name; write it like "#releases" (quoted)')
    return value


# Their robots are found by channel name, and a robot in robots.yaml names its own chat
# (``conversation:``): an id here would send posts for the name nowhere.
ROBOT_ONLY = frozenset({"dingtalk", "feishu"})


def _platform(value: str) -> str:
    if value in ROBOT_ONLY:
        raise ValueError(
            "this platform's chats are not listed in channels.yaml; remove it here and give "
            "the channel's robot in robots.yaml a conversation: with the chat's id"
        )
    return value


ChannelName = Annotated[str, AfterValidator(_name)]
Platform = Annotated[str, AfterValidator(_platform)]
ChannelId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s#][^\s]*$")]


class ChannelsFile(RootModel[dict[Platform, dict[ChannelName, ChannelId]]]):
    """platform → {"#name": id}."""

    model_config = ConfigDict(frozen=True)
    root: dict[Platform, dict[ChannelName, ChannelId]] = Field(default_factory=dict)


class ChannelNames:
    """Both directions of channels.yaml, for one process."""

    __slots__ = ("_ids", "_names")

    def __init__(self, mapping: Mapping[str, Mapping[str, str]]) -> None:
        self._ids = {(p, name): cid for p, names in mapping.items() for name, cid in names.items()}
        self._names = {(p, cid): name for (p, name), cid in self._ids.items()}

    def to_id(self, platform: str, address: str) -> str:
        """Where a post to ``address`` goes on ``platform`` (itself when not listed)."""
        return self._ids.get((platform, address), address)

    def of(self, platform: str) -> dict[str, str]:
        """``platform``'s channels: name → id."""
        return {name: cid for (p, name), cid in self._ids.items() if p == platform}

    def to_name(self, platform: str, channel_id: str) -> str:
        """The name a chat of ``platform`` is known by inside Shipwatch (its id if none)."""
        return self._names.get((platform, channel_id), channel_id)
