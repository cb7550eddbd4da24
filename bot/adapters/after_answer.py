"""Work an adapter does after answering its platform: a platform that re-sends an event
it has no answer to within a few seconds (Feishu, DingTalk) is answered at once, and the
command runs after, in order for each conversation, its reply sent as a message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.adapters.base import Host
from bot.adapters.inbound import Reply, typed

log = logging.getLogger("shipwatch.adapters")
SETTLE_SECONDS = 10.0  # how long a stop waits for commands already taken on


class AfterAnswer:
    """Commands taken on and not yet finished, chained per conversation so that two
    commands typed in one chat are handled, and answered, in the order they came."""

    def __init__(self) -> None:
        self._last: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def take(self, conversation: str, work: Callable[[], Awaitable[None]]) -> None:
        before = self._last.get(conversation)
        task = asyncio.create_task(self._after(before, work), name=f"after-answer {conversation}")
        self._last[conversation] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(conversation, done))

    def typed(
        self,
        host: Host,
        *,
        platform: str,
        user_id: str,
        channel: str,
        line: str,
        event_id: str | None,
        conversation: str,
        answer: Callable[[Reply], Awaitable[None]],
    ) -> None:
        """A command someone typed, run after the platform is answered; its reply, if
        any, handed to ``answer``. ``conversation``: the platform's own chat id."""

        async def work() -> None:
            reply = await typed(
                host,
                platform=platform,
                user_id=user_id,
                channel=channel,
                line=line,
                event_id=event_id,
            )
            if reply is not None:
                await answer(reply)

        self.take(conversation, work)

    async def _after(
        self, before: asyncio.Task[None] | None, work: Callable[[], Awaitable[None]]
    ) -> None:
        if before is not None:
            await asyncio.wait({before})
        try:
            await work()
        except Exception:
            # Nobody is waiting on this task to hear of it: the log is where it is told.
            log.exception("command after the answer failed")

    def _forget(self, conversation: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(conversation) is task:
            del self._last[conversation]

    async def settled(self) -> None:
        """Until every command taken on so far has finished (a stop, or a test reading
        what the platform received)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.settled(), timeout=SETTLE_SECONDS)
        except TimeoutError:
            log.warning("commands still running at stop", extra={"count": len(self._tasks)})
