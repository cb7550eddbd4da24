"""Adapters for tests: one that records what it is asked to send, one that fails on cue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aiohttp import web

from bot.adapters.base import Capabilities, Host, RoomMade, RoomRefused
from bot.i18n import Translator
from bot.render import plain_lines
from playbooks.errors import AdapterError
from playbooks.messages import Message, t


@dataclass
class Sent:
    kind: str  # post | direct
    address: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class RecordingAdapter:
    """Keeps every delivery, rendered as the console would render it."""

    platform: str = "console"
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(
            callback_buttons=True, edits=False, ephemeral=False, max_length=4000
        )
    )
    sent: list[Sent] = field(default_factory=list)

    def routes(self) -> list[web.RouteDef]:
        return []

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        self.sent.append(Sent("post", channel, plain_lines(message, tr)))
        return str(len(self.sent))

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        return None  # no edits here: the revision is posted anew

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        self.sent.append(Sent("direct", user_id, plain_lines(message, tr)))
        return str(len(self.sent))


@dataclass
class FailingAdapter(RecordingAdapter):
    """Fails the next ``failures`` deliveries, then records like its parent.

    ``retry_after`` imitates a platform's rate-limit answer; ``permanent`` one that
    will never succeed (channel not found).
    """

    failures: int = 0
    retry_after: float | None = None
    permanent: bool = False
    crash: bool = False
    attempts: int = 0

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            if self.crash:
                raise ConnectionResetError("peer went away")
            raise AdapterError(
                t("delivery.failed", reason="rate limited" if self.retry_after else "boom"),
                retry_after=self.retry_after,
                permanent=self.permanent,
            )
        return await super().post(channel, message, tr=tr)


@dataclass
class MemberAdapter(RecordingAdapter):
    """Records like its parent, and says who is in a channel as a platform does (None for
    a channel it cannot see)."""

    members: dict[str, set[str]] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        self.asked.append((channel_id, user_id))
        inside = self.members.get(channel_id)
        return None if inside is None else user_id in inside


@dataclass
class RoomAdapter(RecordingAdapter):
    """Records like its parent, and makes incident rooms as a platform would: each a new
    channel ``#<name>``; ``refuse`` names the platform's refusal (``missing_scope``)."""

    refuse: str | None = None
    rooms: dict[str, list[str]] = field(default_factory=dict)  # room id → who was brought in
    closed: list[str] = field(default_factory=list)

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        if self.refuse:
            raise RoomRefused(self.refuse)
        room = f"#{name}"
        self.rooms[room] = []
        ref = await self.post(room, summary, tr=tr)
        return RoomMade(room, ref)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        self.rooms[room_id] += [u for u in user_ids if u not in self.rooms[room_id]]

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        self.closed.append(room_id)
