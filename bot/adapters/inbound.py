"""Plain helpers every adapter uses on the way in: a platform's command into our grammar's
line, and the reply of an invocation with the translator of its language."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from bot.adapters.base import Host
from bot.i18n import Translator
from commands.core.invocations import ButtonPress, CommandInvocation, Invocation, Outcome
from playbooks.effects import Conversation
from playbooks.messages import Message

# A command may be typed after the umbrella command (``/shipwatch remind 10m …``) as well
# as on its own or after a mention of the bot.
UMBRELLA = "shipwatch"
_REFUSED = frozenset({"usage", "denied", "refused", "error"})
# Answers about the asker or the bot itself, of no use to the rest of a channel.
PRIVATE = frozenset({"help", "whoami", "me"})


def command_line(command: str, text: str = "") -> str:
    """``/release`` + ``promote web`` → ``/release promote web``; the umbrella command's
    text is itself the command (``/shipwatch`` alone asks for help)."""
    name = command.strip().lstrip("/").split("@", 1)[0].lower()
    rest = text.strip()
    if name == UMBRELLA:
        if not rest:
            return "/help"
        return rest if rest.startswith("/") else f"/{rest}"
    return f"/{name} {rest}".rstrip()


_MENTION = re.compile(r"^\s*(?:<@[A-Z0-9]+>|@\S+)\s*")


def mentioned_line(text: str) -> str | None:
    """A message that mentions the bot: drop the leading mention(s); the rest is a command,
    with or without its slash. None when nothing is left."""
    rest = text
    while True:
        stripped = _MENTION.sub("", rest, count=1)
        if stripped == rest:
            break
        rest = stripped
    rest = rest.strip()
    if not rest:
        return None
    return rest if rest.startswith("/") else f"/{rest}"


@dataclass(frozen=True, slots=True)
class Reply:
    message: Message
    tr: Translator
    refused: bool  # usage, denied, refused, error
    private: bool  # refusals and help: platforms that can show a reply to one person do


async def typed(
    host: Host, *, platform: str, user_id: str, channel: str, line: str, event_id: str | None
) -> Reply | None:
    """A command someone typed in ``channel`` of ``platform``: its reply, if any."""
    invocation = CommandInvocation(
        platform=platform,
        user_id=user_id,
        conversation=Conversation(platform, channel),
        text=line,
        event_id=event_id,
    )
    _, reply = await run(host, invocation)
    return reply


async def run(host: Host, invocation: Invocation) -> tuple[Outcome, Reply | None]:
    """Dispatch, the chat known by its name inside Shipwatch, and hand back the reply (if
    any) ready to render."""
    if isinstance(invocation, CommandInvocation | ButtonPress):
        where = invocation.conversation
        named = Conversation(where.platform, host.channel_name(where.platform, where.channel))
        invocation = dataclasses.replace(invocation, conversation=named)
    outcome = await host.dispatch(invocation)
    if outcome.reply is None:
        return outcome, None
    reply = Reply(
        message=outcome.reply,
        tr=host.translator(outcome.locale, outcome.tz),
        refused=outcome.status in _REFUSED,
        private=outcome.status in _REFUSED or outcome.command in PRIVATE,
    )
    return outcome, reply
