"""Effects: what a transition asks the world to do, written to the outbox with the state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from playbooks.messages import Message


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a message goes: a channel on a platform (``console``, ``#ops``)."""

    platform: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}"


@dataclass(frozen=True, slots=True)
class Post:
    conversation: Conversation
    message: Message


@dataclass(frozen=True, slots=True)
class DirectMessage:
    person: str
    message: Message


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Fire ``kind`` with ``payload`` at ``due_at``; re-arming a key moves the timer."""

    key: str
    kind: str
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelTimer:
    key: str


Effect = Post | DirectMessage | ArmTimer | CancelTimer
