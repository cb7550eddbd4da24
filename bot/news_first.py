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
        # The repeats waiting now share one gate, opened when the news is done or when the
        # first of them has waited the bound: one timer for all, not one each.
        self._gate: asyncio.Event | None = None

    @property
    def working(self) -> int:
        return self._working

    @contextlib.contextmanager
    def news(self) -> Iterator[None]:
        """Around news handed to the database: repeats wait while it runs."""
        self._working += 1
        try:
            yield
        finally:
            self._working -= 1
            if not self._working and self._gate is not None:
                self._open(self._gate)

    async def repeat(self) -> None:
        """Return once no news is being worked on, or after the bound, whichever is first."""
        if not self._working or self._at_most <= 0:
            return
        gate = self._gate
        if gate is None:
            gate = self._gate = asyncio.Event()
            asyncio.get_running_loop().call_later(self._at_most, self._open, gate)
        await gate.wait()

    def _open(self, gate: asyncio.Event) -> None:
        gate.set()
        if self._gate is gate:
            self._gate = None
