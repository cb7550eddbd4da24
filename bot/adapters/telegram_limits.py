"""Telegram's send limits (one message a second per chat, twenty a minute per group), kept
by reserving each send a slot: a short wait is waited, a long one handed back to the caller."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

PER_CHAT_INTERVAL = 1.0
GROUP_WINDOW = 60.0
GROUP_MAX = 20
MAX_WAIT = 2.0  # longer than this, the outbox reschedules rather than holding the sender
_PRUNE_AT = 10_000


class RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"send limit reached; free in {wait:.1f}s")
        self.wait = wait


@dataclass(slots=True)
class _Chat:
    next_free: float = 0.0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=GROUP_MAX))


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids (or are named by @username)."""
    return chat_id.startswith("-") or not chat_id.isdigit()


class SendLimiter:
    """Each chat keeps its own slots, so a busy group never slows a direct message."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._max_wait = max_wait
        self._chats: dict[str, _Chat] = {}

    async def acquire(self, chat_id: str, *, max_wait: float | None = None) -> None:
        """Wait for this chat's next slot, or raise ``RateLimited`` if it is too far off."""
        now = self._monotonic()
        chat = self._chats.get(chat_id)
        if chat is None:
            self._prune(now)
            chat = self._chats.setdefault(chat_id, _Chat())
        slot = max(now, chat.next_free)
        if is_group(chat_id) and len(chat.recent) == GROUP_MAX:
            slot = max(slot, chat.recent[0] + GROUP_WINDOW)
        wait = slot - now
        limit = self._max_wait if max_wait is None else max_wait
        if wait > limit:
            raise RateLimited(wait)
        # Reserved before waiting, so senders to one chat queue up rather than collide.
        chat.next_free = slot + PER_CHAT_INTERVAL
        chat.recent.append(slot)
        if wait > 0:
            await self._sleep(wait)

    def now(self) -> float:
        """The limiter's own clock, for callers that budget their waits on it."""
        return self._monotonic()

    def hold(self, chat_id: str, seconds: float) -> None:
        """Telegram said to wait (a 429): no slot for this chat until then."""
        chat = self._chats.setdefault(chat_id, _Chat())
        chat.next_free = max(chat.next_free, self._monotonic() + seconds)

    def _prune(self, now: float) -> None:
        if len(self._chats) < _PRUNE_AT:
            return
        horizon = now - GROUP_WINDOW
        for key in [k for k, c in self._chats.items() if c.next_free < horizon]:
            del self._chats[key]
