"""The contract every chat platform adapter keeps, and the host it talks back to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.i18n import Translator
from playbooks.messages import Message

if TYPE_CHECKING:
    from aiohttp import web

    from commands.core.invocations import Invocation, Outcome


@dataclass(frozen=True, slots=True)
class Capabilities:
    callback_buttons: bool  # a press comes back to us (else buttons become action links)
    edits: bool
    ephemeral: bool
    max_length: int
    # How many of its conversations the outbox delivers to at once: a platform whose limits
    # are per chat (Telegram) or per channel (Slack) or per robot lets one wait while the
    # others go; a terminal (the console) takes one at a time.
    conversations_at_once: int = 1


class Host(Protocol):
    """What an adapter may ask of the running Shipwatch: the one way in, and translators."""

    async def dispatch(self, invocation: Invocation) -> Outcome: ...

    def translator(self, locale: str, tz: tzinfo | None = None) -> Translator:
        """Renders in ``locale``, with times in ``tz`` (else the deployment's timezone)."""
        ...

    def channel_name(self, platform: str, channel_id: str) -> str:
        """The name a platform's chat is known by inside Shipwatch (channels.yaml)."""
        ...

    def chart_url(self, chart_id: str) -> str:
        """Where people (and platforms that show images by link) fetch a report's chart."""
        ...

    async def chart_png(self, chart_id: str) -> bytes | None:
        """A report chart's PNG, for platforms that take files; None if it is gone."""
        ...

    async def enqueue_reply(
        self, platform: str, channel: str, message: Message, *, locale: str
    ) -> None:
        """Hand a reply the platform will not take now (its limit for the chat is reached)
        to the outbox, in its own transaction: it is delivered, in order, when it may be."""
        ...

    async def hold_sends(self, key: str, *, seconds: float, reason: str) -> None:
        """The platform said to leave ``key`` (a robot, a chat) alone this long: every
        process on the database waits it out, a restarted one too."""
        ...

    async def sends_held_for(self, key: str) -> float:
        """How many seconds ``key`` is still held (0: free to send)."""
        ...


@runtime_checkable
class DirectReach(Protocol):
    """An adapter that cannot send a direct message to everyone of its platform (DingTalk
    and Feishu without their apps) says whom it can reach; others reach anyone."""

    def reaches(self, user_id: str) -> bool: ...


@runtime_checkable
class Membership(Protocol):
    """An adapter whose platform can say who is in a chat (Slack conversations.members,
    Telegram getChatMember, Feishu chat members). Asked before a direct message whose news
    was posted in a chat is sent: a member gets no copy. Answers are cached by the adapter,
    so a storm of messages costs the platform a few calls, not one per message."""

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """Whether ``user_id`` is in ``channel_id``; None when the platform cannot tell
        (no permission, an error): the message is then sent."""
        ...


@runtime_checkable
class SolePoller(Protocol):
    """An adapter that takes updates by polling its platform where only one process at a
    time may poll (Telegram's getUpdates): the running Shipwatch starts its polling on the
    one replica that holds that duty."""

    def polls(self) -> bool:
        """Whether it polls at all (a webhook needs no poller)."""
        ...

    async def start_polling(self) -> None: ...

    async def stop_polling(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RoomMade:
    """A room the platform made: its id (where its posts go) and the pinned summary's
    message reference (what later revisions of the summary edit)."""

    room_id: str
    summary_ref: str | None


class RoomRefused(Exception):
    """The platform will not make (or let the bot work in) a room: a permission missing
    (Slack ``missing_scope``), a chat that cannot hold one (a Telegram group that is not a
    forum). Not retried: the incident's news goes to the shared channel instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Rooms(Protocol):
    """An adapter whose platform can give an incident a conversation of its own. Posts to
    the room go through ``post`` with the ``room_id`` it returned."""

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade: ...

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None: ...

    async def close_room(self, room_id: str, *, tr: Translator) -> None: ...


class Adapter(Protocol):
    """One chat platform. It only translates between the platform and ``Invocation`` /
    ``Message``; no SDK type leaves its module."""

    platform: str
    capabilities: Capabilities

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes the platform calls (webhooks); mounted on Shipwatch's server."""
        ...

    async def start(self, host: Host) -> None:
        """Begin taking updates (connect, poll) on the running loop; never owns the loop."""
        ...

    async def stop(self) -> None: ...

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        """Send ``message`` to a channel; return the platform's message id if it has one.

        Raises ``Throttled`` when the platform (or a send limit) asks to wait, and
        ``AdapterError`` (``permanent`` when retrying cannot help) on a real failure.
        """
        ...

    async def direct_message(
        self, user_id: str, message: Message, *, tr: Translator
    ) -> str | None: ...

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        """Edit the message ``ref`` (as ``post`` returned it) to read ``message`` instead.

        Called only when ``capabilities.edits``; None when that message can no longer be
        edited (deleted, too old), and the message is then posted anew.
        """
        ...
