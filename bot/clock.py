"""Time: the wall clock in production, a virtual clock that moves only when told in drills."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    @property
    def virtual(self) -> bool: ...

    def now(self) -> datetime: ...


class WallClock:
    virtual = False

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock for drills and tests: it stands still until ``advance_to`` moves it."""

    virtual = True

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs an aware start time")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError("the virtual clock never runs backwards")
        self._now = moment.astimezone(UTC)
        waking = [s for s in self._sleepers if s[0] <= self._now]
        self._sleepers = [s for s in self._sleepers if s[0] > self._now]
        for _, woken in waking:
            if not woken.done():
                woken.set_result(None)

    async def sleep_until(self, moment: datetime) -> None:
        """Return once the clock has been moved to ``moment`` (at once if it is past)."""
        if moment <= self._now:
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((moment, woken))
        await woken

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self._now + delta)


async def sleep_until(clock: Clock, moment: datetime) -> None:
    """Wait until ``moment`` on ``clock``: real seconds on the wall clock, the drill's own
    moves on the virtual one."""
    if isinstance(clock, VirtualClock):
        await clock.sleep_until(moment)
        return
    await asyncio.sleep(max(0.0, (moment - clock.now()).total_seconds()))
