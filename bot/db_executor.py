"""The database's own threads: every transaction the bot runs happens here, off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

P = ParamSpec("P")
R = TypeVar("R")
POSTGRES_THREADS = 4


def threads_for(engine: Engine) -> int:
    """One thread for SQLite; a few for a server database, never more than its pool holds.

    SQLite lets one writer in at a time anyway: one thread serialises our own transactions
    in the order they were asked for (so drills stay deterministic) and they never meet
    SQLITE_BUSY from each other, only from another process. PostgreSQL runs them side by
    side; the pool keeps a connection spare for the odd read from elsewhere.
    """
    if engine.dialect.name == "sqlite":
        return 1
    pool = engine.pool
    size = pool.size() if isinstance(pool, QueuePool) else POSTGRES_THREADS + 1
    return max(1, min(POSTGRES_THREADS, size - 1))


class DbExecutor:
    """Runs blocking database work on its threads; the event loop only awaits the answer.

    A unit of work may wait up to SQLite's ``busy_timeout`` for another process's lock, and
    on PostgreSQL every statement is a network round trip: meanwhile the loop keeps
    answering health checks, Slack's acknowledgements and everything else.
    """

    def __init__(self, engine: Engine, *, threads: int | None = None) -> None:
        self.threads = threads if threads is not None else threads_for(engine)
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="shipwatch-db")

    async def run(self, work: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``work(*args, **kwargs)`` on a database thread. A caller cancelled while the work
        waits for a thread cancels it; once it runs it finishes (a thread cannot be
        interrupted), its transaction committing or rolling back whole, unawaited."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # as asyncio.to_thread: context vars go along
        call = functools.partial(context.run, work, *args, **kwargs)
        return await loop.run_in_executor(self._pool, call)

    async def shutdown(self) -> None:
        """Let the work already handed over finish, then end the threads (without blocking
        the loop while they finish)."""
        await asyncio.to_thread(self._pool.shutdown, wait=True)
