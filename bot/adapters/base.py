"""The contract every chat platform adapter keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.i18n import Translator
from playbooks.messages import Message


@dataclass(frozen=True, slots=True)
class Capabilities:
    callback_buttons: bool  # a press comes back to us (else buttons are links)
    edits: bool
    ephemeral: bool
    max_length: int


class Adapter(Protocol):
    platform: str
    capabilities: Capabilities

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        """Send ``message`` to a channel; return the platform's message id if it has one.

        Raises ``AdapterError`` (with ``retry_after`` where the platform says) on failure.
        """
        ...

    async def direct_message(
        self, user_id: str, message: Message, *, tr: Translator
    ) -> str | None: ...
