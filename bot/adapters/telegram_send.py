"""Sending to Telegram: chat ids, inline keyboards, and a Bot API call's failure as the
outbox understands it (wait and retry, retry with back-off, or give up)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.telegram_limits import SendLimiter
from bot.adapters.telegram_render import Rendered
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t

# Durations as timedelta (RetryAfter.retry_after above all): PTB 22's opt-in to its next
# major version, which otherwise warns on every flood-control answer.
os.environ.setdefault("PTB_TIMEDELTA", "true")
T = TypeVar("T")


def thread_of(channel: str) -> int | None:
    """The forum topic a channel names (``-1001234/42``: topic 42 of that supergroup)."""
    _, sep, thread = channel.rpartition("/")
    return int(thread) if sep and thread.isdigit() else None


def chat_id(channel: str) -> int | str:
    """Numeric ids as numbers; ``@channelname`` as is; ``#name`` is not a Telegram chat.
    A forum topic's channel (``-1001234/42``) is its supergroup's chat."""
    if thread_of(channel) is not None:
        channel = channel.rpartition("/")[0]
    if channel.lstrip("-").isdigit():
        return int(channel)
    if channel.startswith("@"):
        return channel
    reason = (
        f"Telegram has no chat called {channel!r}; name it by its numeric id "
        "(like telegram:-1001234567890) or its @username"
    )
    raise AdapterError(t("delivery.failed", reason=reason), permanent=True)


def markup(rendered: Rendered) -> InlineKeyboardMarkup | None:
    if not rendered.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in rendered.keyboard
        ]
    )


class FloodControl(Throttled):
    """Telegram itself said to wait (429 RetryAfter), not only our own pacing."""


async def bot_call(channel: str, limiter: SendLimiter, call: Awaitable[T]) -> T:
    """One Bot API call, its failure as the outbox understands it."""
    try:
        return await call
    except RetryAfter as error:
        wait = _retry_after(error)
        limiter.hold(channel, wait)
        reason = f"Telegram flood control: retry after {wait:g}s"
        raise FloodControl(t("delivery.failed", reason=reason), retry_after=wait) from None
    except ChatMigrated as error:
        reason = f"the group became a supergroup; use telegram:{error.new_chat_id}"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=True) from None
    except (Forbidden, BadRequest, InvalidToken) as error:
        # Blocked by the person, not in the group, chat not found: retrying cannot help.
        reason = f"Telegram refused: {error.message}"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=True) from None
    except TelegramError as error:
        # Network errors and timeouts: the outbox tries again with back-off.
        reason = f"Telegram unreachable: {error.message}"
        raise AdapterError(t("delivery.failed", reason=reason)) from None


def _retry_after(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # Reading it as a number is deprecated in favour of a timedelta; take either.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
