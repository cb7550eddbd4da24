"""Durable timers: database rows are the truth; APScheduler arms them on the wall clock.

APScheduler is imported when a service on the wall clock starts: a drill's virtual clock
never schedules anything, and importing it costs ~14 ms of the drill's start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.clock import Clock
from bot.db_executor import DbExecutor
from storage.repositories import timers
from storage.unit_of_work import unit_of_work

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("shipwatch.timers")
SWEEP_SECONDS = 30
# Pending rows a sweep reads at a time: with tens of thousands pending (a storm's SLA
# timers) one read of them all held the one SQLite thread for a tenth of a second, and
# whatever command came meanwhile waited; now it waits for one chunk at most.
SWEEP_CHUNK = 1000


class TimerService:
    """Arms every pending timer in the scheduler and fires it through ``fire``.

    On a virtual clock nothing is scheduled: the drill's ``:advance`` walks the
    database rows in due order instead, so tests never wait on real time.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        db: DbExecutor,
        clock: Clock,
        fire: Callable[[str], Awaitable[object]],
        also_sweep: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._engine = engine
        self._db = db
        self._also_sweep = also_sweep
        self._clock = clock
        self._fire = fire
        self._scheduler: AsyncIOScheduler | None = None
        # Keys this process has armed and not finished firing, with their due times. A
        # row stays pending until its firing commits, and the scheduler forgets a job the
        # moment it submits it, so only this tells the sweep not to arm a timer twice;
        # a due time that differs from the row's means another process moved it.
        self._armed: dict[str, datetime] = {}

    async def start(self) -> None:
        """Fire what fell due while we were down (once, marked late), then arm the rest."""
        await self.fire_due()
        if self._clock.virtual:
            return
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.start()
        self._scheduler.add_job(
            self.sweep, "interval", seconds=SWEEP_SECONDS, id="__sweep__", coalesce=True
        )
        await self.sweep()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def sweep(self) -> None:
        """Arm every pending row the scheduler does not know yet (armed by another process).

        APScheduler runs this coroutine on the loop; the reads are on a database thread,
        ``SWEEP_CHUNK`` rows at a time in due order (a row moved meanwhile by another
        process is seen at the next sweep, as one moved just after a single read would be).
        """
        before = dict(self._armed)
        after: tuple[datetime, int] | None = None
        while self._scheduler is not None:
            pending = await self._db.run(self._pending_due_times, after)
            for key, due_at, _ in pending:
                # A key armed, fired or re-armed here since the sweep began is left to the
                # next sweep (what was read may be older than that); so is everything once
                # stopped.
                if self._scheduler is None or self._armed.get(key) != before.get(key):
                    continue
                if self._armed.get(key) != due_at:
                    self.arm(key, due_at)
            if len(pending) < SWEEP_CHUNK:
                break
            _, due_at, timer_id = pending[-1]
            after = (due_at, timer_id)
        if self._scheduler is None:
            return
        if self._also_sweep is not None:
            await self._also_sweep()  # the in-memory schedules following other processes' rows

    def _pending_due_times(
        self, after: tuple[datetime, int] | None
    ) -> list[tuple[str, datetime, int]]:
        with unit_of_work(self._engine) as session:
            return timers.pending_due_times(session, after=after, limit=SWEEP_CHUNK)

    def arm(self, key: str, due_at: datetime) -> None:
        if self._scheduler is None:
            return
        from apscheduler.triggers.date import DateTrigger  # loaded with the scheduler

        self._armed[key] = due_at
        self._scheduler.add_job(
            self._fire_once,
            DateTrigger(run_date=due_at),
            args=[key],
            id=key,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _fire_once(self, key: str) -> None:
        fired_due = self._armed.get(key)
        try:
            await self._fire(key)
        finally:
            # Whatever happened, the row is the truth: if it is still pending (moved by
            # another process, say) the next sweep arms it again. A firing that re-armed
            # its own key (a launch's progress post) has armed a new due time: keep that.
            if self._armed.get(key) == fired_due:
                self._armed.pop(key, None)

    def cancel(self, key: str) -> None:
        self._armed.pop(key, None)
        if self._scheduler is not None and self._scheduler.get_job(key) is not None:
            self._scheduler.remove_job(key)

    def armed_at(self, key: str) -> datetime | None:
        """When the scheduler will fire ``key``, if it is armed here."""
        job = self._scheduler.get_job(key) if self._scheduler is not None else None
        return job.next_run_time if job is not None else None

    def armed_count(self) -> int:
        if self._scheduler is None:
            return 0
        return sum(1 for job in self._scheduler.get_jobs() if job.id != "__sweep__")

    async def fire_due(self) -> int:
        """Fire every pending timer due by now, in due order."""
        due = await self._db.run(self._due_keys, self._clock.now())
        for key in due:
            await self._fire_once(key)
        return len(due)

    def _due_keys(self, now: datetime) -> list[str]:
        with unit_of_work(self._engine) as session:
            return [row.key for row in timers.pending(session, due_before=now)]

    async def next_due(self) -> datetime | None:
        return await self._db.run(self._next_due)

    def _next_due(self) -> datetime | None:
        with unit_of_work(self._engine) as session:
            return timers.next_due(session)
