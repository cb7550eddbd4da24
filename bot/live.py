"""Live updates inside one process: the topics of each committed change
(``storage.changes``, and other replicas' through their notices) fanned out to every open
event stream of the web console (``bot/web/console/events.py``).

A subscriber keeps a set of topics not yet taken, not a queue: a burst of changes while a
stream is busy sending becomes one event naming them all, and a slow reader holds no more
memory than the number of distinct topics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class Subscription:
    def __init__(self) -> None:
        self._pending: set[str] = set()
        self._ready = asyncio.Event()
        self.closed = False

    def add(self, topics: frozenset[str]) -> None:
        self._pending |= topics
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next(self, within: float) -> frozenset[str]:
        """The topics published since the last call; empty after ``within`` seconds
        with none, or once closed."""
        try:
            await asyncio.wait_for(self._ready.wait(), within)
        except TimeoutError:
            return frozenset()
        self._ready.clear()
        taken, self._pending = frozenset(self._pending), set()
        return taken


class Broadcaster:
    """Publish from any thread (a commit on a database thread); subscribers read on the
    event loop the broadcaster was started on."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def stop(self) -> None:
        """End every subscription (the streams close, and browsers reconnect elsewhere)."""
        for subscription in self._subscribers:
            subscription.close()
        self._loop = None

    def publish(self, topics: Iterable[str]) -> None:
        loop = self._loop
        chosen = frozenset(topics)
        if loop is None or not chosen or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(chosen)
        else:
            loop.call_soon_threadsafe(self._deliver, chosen)

    def _deliver(self, topics: frozenset[str]) -> None:
        for subscription in self._subscribers:
            subscription.add(topics)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        if self._loop is None:
            subscription.close()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
