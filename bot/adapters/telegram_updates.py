"""A Telegram update as our invocation: a command (with or without ``@botname``), a mention
of the bot, a direct message, or a button press."""

from __future__ import annotations

import re

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType

from bot.adapters.inbound import command_line, mentioned_line
from commands.core.invocations import ButtonPress, CommandInvocation
from playbooks.effects import Conversation

PLATFORM = "telegram"
START = "/start"
_FIRST_WORD = re.compile(r"(\S+)\s*(.*)", re.DOTALL)


def line_for(text: str, *, bot_username: str, private: bool) -> str | None:
    """The command line a message stands for, or None when it is not for us.

    ``/release@shipwatch_bot status web`` and ``/release status web`` are the same;
    ``/release@other_bot …`` is another bot's. In a group only commands and messages
    that start by mentioning the bot count; in a private chat every message does.
    """
    match = _FIRST_WORD.match(text.strip())
    if match is None:
        return None
    first, rest = match.groups()
    if first.startswith("/"):
        name, _, addressee = first.partition("@")
        if addressee and addressee.lower() != bot_username.lower():
            return None
        if name.lower() == START:
            return "/help"  # what Telegram sends when someone first opens a chat with the bot
        return command_line(name, rest) if len(name) > 1 else None
    if first.lower() == f"@{bot_username.lower()}" or private:
        return mentioned_line(text)
    return None


def command_from(update: Update, *, bot_username: str) -> CommandInvocation | None:
    message: Message | None = update.message
    if message is None or message.text is None:
        return None
    user = message.from_user
    if user is None or user.is_bot:
        return None
    line = line_for(
        message.text, bot_username=bot_username, private=message.chat.type == ChatType.PRIVATE
    )
    if line is None:
        return None
    return CommandInvocation(
        platform=PLATFORM,
        user_id=str(user.id),
        conversation=Conversation(PLATFORM, _where(message)),
        text=line,
        event_id=str(update.update_id),
    )


def _where(message: Message) -> str:
    """The chat, or the forum topic (``chat/thread``) a message was written in: an
    incident's room on Telegram is a topic."""
    if message.is_topic_message and message.message_thread_id:
        return f"{message.chat.id}/{message.message_thread_id}"
    return str(message.chat.id)


def press_from(query: CallbackQuery) -> ButtonPress | None:
    """A press of one of our buttons, run where the button was shown."""
    if not query.data or query.message is None:
        return None
    return ButtonPress(
        platform=PLATFORM,
        user_id=str(query.from_user.id),
        conversation=Conversation(PLATFORM, str(query.message.chat.id)),
        action_id=query.data,
        event_id=f"callback:{query.id}",
    )
