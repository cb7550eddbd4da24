"""Time: the wall clock in production, a virtual clock that moves only when told in drills."""

from __future__ import annotations

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

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError("the virtual clock never runs backwards")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self._now + delta)
