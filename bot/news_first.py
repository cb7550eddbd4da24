"""News before repeats: while the database works on something new, a repeat waits a moment.

The event loop and the database thread share Python's interpreter lock. In an alert storm
the loop can answer repeats (notifications already handled, known from memory) as fast as
they come, and the database thread lets go of the lock around every SQLite call, dozens
of times in one transaction, then waits for the loop to hand it back. Measured with
``python -m bench incidents`` (99% repeats, 1% new groups): an incident open needing 3 ms
of CPU took 10-25 ms on the database thread, new groups queued behind each other for up
to half a second, and their pages fell behind.

A repeat's answer says nothing new, and whoever sent it waits without harm. So while work
handed to the database by ``dispatch`` is running or queued, a repeat first waits until
it is done: at most ``REPEAT_WAITS_AT_MOST_S``, so repeats still answer promptly when the
database is held up for long (another process holding SQLite's lock, a burst of timers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

REPEAT_WAITS_AT_MOST_S = 0.02


class NewsFirst:
    def __init__(self, *, repeats_wait_at_most: float = REPEAT_WAITS_AT_MOST_S) -> None:
        self._at_most = repeats_wait_at_most
        self._working = 0  # units of news handed to the database and not yet done
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def working(self) -> int:
        return self._working

    @contextlib.contextmanager
    def news(self) -> Iterator[None]:
        """Around news handed to the database: repeats wait while it runs."""
        self._working += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._working -= 1
            if not self._working:
                self._quiet.set()

    async def repeat(self) -> None:
        """Return once no news is being worked on, or after the bound, whichever is first."""
        if not self._working or self._at_most <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._at_most):
                await self._quiet.wait()
