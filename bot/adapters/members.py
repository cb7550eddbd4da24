"""Who is in a chat, as a platform said, remembered for a few minutes: a storm of direct
messages asks the platform once per chat (or per chat and person), not once per message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")
TTL_SECONDS = 300.0  # someone who joins a channel gets copies for at most this long
MAX_KEYS = 10_000


class Remembered(Generic[V]):
    """A platform's answers by key, each kept ``ttl`` seconds; "cannot tell" (None) too,
    so a platform that refuses the question is not asked again at every message."""

    def __init__(
        self, *, ttl: float = TTL_SECONDS, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._now = now
        self._answers: dict[str, tuple[float, V | None]] = {}
        self._asking: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, ask: Callable[[], Awaitable[V | None]]) -> V | None:
        answer = self._fresh(key)
        if answer is not None:
            return answer[1]
        # One question at a time per key: lanes sending at once wait for the same answer.
        lock = self._asking.setdefault(key, asyncio.Lock())
        async with lock:
            answer = self._fresh(key)
            if answer is not None:
                return answer[1]
            value = await ask()
            if len(self._answers) >= MAX_KEYS:
                self._answers.clear()
            self._answers[key] = (self._now(), value)
            return value

    def _fresh(self, key: str) -> tuple[float, V | None] | None:
        answer = self._answers.get(key)
        if answer is None or self._now() - answer[0] >= self._ttl:
            return None
        return answer
