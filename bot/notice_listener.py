"""LISTEN for other replicas' notices (PostgreSQL NOTIFY): timers armed, messages queued,
and what changed for the web console's live pages."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping

from sqlalchemy.engine import URL

from storage.notices import CHANNEL

log = logging.getLogger("shipwatch.notices")
BACKOFF_FIRST = 0.5
BACKOFF_CAP = 10.0
# Handlers run at most this often: a busy replica commits many times a second, and a
# timer sweep reads every pending row, so notices heard meanwhile are answered together.
COALESCE_SECONDS = 0.1


def conninfo(url: URL) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL (password kept: it is used, not shown)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class NoticeListener:
    """One dedicated connection that LISTENs and runs the handler of each topic heard.

    A burst of notices runs each handler once: they only say "look again", and looking
    once after the burst sees all of it. When the connection drops it is logged once and
    opened again with back-off; every handler runs after each (re)connect, since notices
    sent while nobody listened are lost.
    """

    def __init__(
        self,
        url: URL,
        handlers: Mapping[str, Callable[[], object]],
        *,
        other: Callable[[str], None] | None = None,
    ) -> None:
        self._conninfo = conninfo(url)
        self._handlers = handlers
        # Given each notice that is no handler's topic, at once and whole (the web
        # console's change topics: ``storage.changes``).
        self._other = other
        self._heard: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="notice-listener"),
            asyncio.create_task(self._run_handlers(), name="notice-handlers"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _listen(self) -> None:
        backoff = BACKOFF_FIRST
        dropped = False
        import psycopg  # PostgreSQL only: SQLite replicas never listen

        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    if dropped:
                        log.info("listening for other replicas again")
                    dropped, backoff = False, BACKOFF_FIRST
                    self.connected.set()
                    self._hear(*self._handlers)
                    async for notice in connection.notifies():
                        if notice.payload in self._handlers or self._other is None:
                            self._hear(notice.payload)
                        else:
                            self._other(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.connected.clear()
                if not dropped:
                    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                    log.warning(
                        "lost the notice connection; other replicas' timers and messages "
                        "are seen at the next sweep until it is back",
                        extra={"reason": reason},
                    )
                dropped = True
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_CAP, backoff * 2)

    def _hear(self, *topics: str) -> None:
        self._heard.update(t for t in topics if t in self._handlers)
        self._wake.set()

    async def _run_handlers(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            heard, self._heard = self._heard, set()
            for topic in sorted(heard):
                try:
                    handled = self._handlers[topic]()
                    if inspect.isawaitable(handled):
                        await handled
                except Exception:
                    log.exception("notice handler failed", extra={"topic": topic})
            await asyncio.sleep(COALESCE_SECONDS)
