"""The console adapter: prints every message with a ``>>>`` header line naming where it went.

Text from outside (an alert's title, a note) is shown so that it cannot pass for the console's
own lines: control characters escaped, and a line of it that starts like a header (``>>>``),
a button (``[``) or the console's feedback (``--``) moved off the first column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from bot.adapters.base import Capabilities, Host, RoomMade
from bot.i18n import Translator
from bot.render import DEFAULT_PUBLIC_URL, plain_lines
from commands.core.untrusted import escape_controls
from playbooks.lists import listed
from playbooks.messages import Message, Param, t

if TYPE_CHECKING:
    from aiohttp import web

_OWN_MARKS = (">>>", "[", "--")


class LineSafeTranslator(Translator):
    """Renders as ``tr`` does, with every text parameter's control characters escaped (a
    newline kept: notes may have several lines)."""

    def __init__(self, tr: Translator) -> None:
        super().__init__(tr.locale, tr.tz)

    def param(self, value: Param) -> str:
        if isinstance(value, str):
            return escape_controls(value, newlines=True)
        return super().param(value)


def _content(text: str) -> list[str]:
    return [f" {line}" if line.startswith(_OWN_MARKS) else line for line in text.split("\n")]


MAX_BUTTONS_KEPT = 1000  # a long rehearsal does not grow without bound


class ConsoleAdapter:
    platform = "console"
    capabilities = Capabilities(
        callback_buttons=True, edits=False, ephemeral=False, max_length=100_000
    )

    def __init__(self, out: TextIO, *, public_url: str = DEFAULT_PUBLIC_URL) -> None:
        self._out = out
        self._public_url = public_url
        # every button shown, oldest first: (where it was shown, its label, its action id)
        self._buttons: list[tuple[str, str, str]] = []

    def button_labelled(self, label: str, *, person: str, channel: str) -> str | None:
        """The action id of the newest button labelled ``label`` (in any case), preferring
        one shown to ``person`` or in ``channel``: ``:press Acknowledge`` as a person would
        press it, without reading its token off the screen."""
        wanted = label.strip().casefold()
        matches = [(where, aid) for where, shown, aid in self._buttons if shown == wanted]
        near = [aid for where, aid in matches if where in (f"@{person}", channel)]
        chosen = near or [aid for _, aid in matches]
        return chosen[-1] if chosen else None

    def routes(self) -> list[web.RouteDef]:
        return []

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        self._out.flush()

    async def post(self, channel: str, message: Message, *, tr: Translator) -> str | None:
        self.show(channel, message, tr)
        return None

    async def update(self, ref: str, message: Message, *, tr: Translator) -> str | None:
        return None  # no edits here: the revision is posted anew

    async def direct_message(self, user_id: str, message: Message, *, tr: Translator) -> str | None:
        self.show(f"@{user_id}", message, tr)
        return None

    async def open_room(
        self, name: str, *, topic: str, summary: Message, tr: Translator
    ) -> RoomMade:
        """A channel of its own (``#inc-42``), opened with the incident's summary."""
        room = f"#{name}"
        self.show(room, summary, tr)
        return RoomMade(room, None)

    async def invite_to_room(
        self, room_id: str, user_ids: Sequence[str], *, tr: Translator
    ) -> None:
        people = listed([f"@{user}" for user in user_ids])
        self.show(room_id, Message.of(t("incident.room.invited", people=people)), tr)

    async def close_room(self, room_id: str, *, tr: Translator) -> None:
        """Nothing to show: the incident's last line in the room already says it is
        archived, and a console channel needs no archiving."""

    def show(self, header: str, message: Message, tr: Translator) -> None:
        rendered = plain_lines(message, LineSafeTranslator(tr), public_url=self._public_url)
        # Blocks and fields come first and hold text from outside; the chart and button
        # lines after them are the console's own.
        told = len(message.blocks) + len(message.fields)
        lines = [f">>> {escape_controls(header)}"]
        for line in rendered[:told]:
            lines += _content(line)
        lines += rendered[told:]
        self._buttons += [
            (header, tr(b.label).casefold(), b.action_id) for b in message.buttons if b.action_id
        ]
        del self._buttons[:-MAX_BUTTONS_KEPT]
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()

    def say(self, line: str) -> None:
        """A line from the console itself (directive feedback), not from the bot."""
        first, *more = escape_controls(line, newlines=True).split("\n")
        self._out.write(
            "\n".join([f"-- {first}", *(m for part in more for m in _content(part))]) + "\n"
        )
        self._out.flush()
