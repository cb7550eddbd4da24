"""The console adapter: prints every message with a ``>>>`` header line naming where it went."""

from __future__ import annotations

from typing import TextIO

from aiohttp import web

from bot.adapters.base import Capabilities, Host
from bot.i18n import Translator
from bot.render import DEFAULT_PUBLIC_URL, plain_lines
from playbooks.messages import Message


class ConsoleAdapter:
    platform = "console"
    capabilities = Capabilities(
        callback_buttons=True, edits=False, ephemeral=False, max_length=100_000
    )

    def __init__(self, out: TextIO, *, public_url: str = DEFAULT_PUBLIC_URL) -> None:
        self._out = out
        self._public_url = public_url

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

    def show(self, header: str, message: Message, tr: Translator) -> None:
        self._out.write(
            "\n".join([f">>> {header}", *plain_lines(message, tr, public_url=self._public_url)])
            + "\n"
        )
        self._out.flush()

    def say(self, line: str) -> None:
        """A line from the console itself (directive feedback), not from the bot."""
        self._out.write(f"-- {line}\n")
        self._out.flush()
