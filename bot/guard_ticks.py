"""Guard ticks: an in-memory schedule of every live release's guard readings."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from playbooks.effects import Measure, Unwatch, Watch
from playbooks.releases import watch
from playbooks.releases.machine import Release

log = logging.getLogger("shipwatch.guard_ticks")


@dataclass(slots=True)
class _Entry:
    release: Release
    due_at: datetime
    generation: int  # heap items of an older generation are stale


class GuardTicks:
    """When each live release's guards are read next, and the reading of them.

    Not durable on purpose (see ``Watch``): the entries come from the effects of the moves
    that start and stop watching, and from the releases table when the bot starts. On the
    wall clock one loop task sleeps until the earliest tick; on a virtual clock nothing
    runs by itself, and ``:advance`` fires the ticks in time order with the timers.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        measure: Callable[[Measure], Awaitable[None]],
        on_duty: Callable[[], bool] = lambda: True,
    ) -> None:
        self._clock = clock
        self._measure = measure
        # With several replicas only the holder of the guard duty reads guards; this is
        # asked before each reading, so none is taken once the lease may have lapsed.
        self._on_duty = on_duty
        self._entries: dict[int, _Entry] = {}
        self._heap: list[tuple[datetime, int, int]] = []  # (due, generation, release id)
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ what to watch

    def apply(self, changes: Iterable[Watch | Unwatch]) -> None:
        """A committed transaction's word on what to watch, in its order (off duty the
        holder hears of it from the database instead)."""
        if not self._on_duty():
            return
        for change in changes:
            match change:
                case Watch(release=release, start=start):
                    self.watch(release, start=start)
                case Unwatch(release_id=release_id):
                    self._entries.pop(release_id, None)

    def watch(self, release: Release, *, start: datetime | None = None) -> None:
        entry = self._entries.get(release.id)
        if entry is not None and start is None:
            entry.release = release  # the cadence stays; what is read follows the release
            return
        self._schedule(release, start or self._clock.now())

    def rebuild(self, releases: Sequence[Release]) -> None:
        """Start watching every live release, first reading now (the bot has just started)."""
        for release in sorted(releases, key=lambda r: r.id):
            self.watch(release)

    async def reconcile(
        self,
        read_marks: Callable[[], Awaitable[Mapping[int, tuple[int, int, str]]]],
        load: Callable[[], Awaitable[Sequence[Release]]],
    ) -> None:
        """Follow releases moved by another process: ``read_marks`` gives the live releases'
        (attempt, stage, state); ``load`` reads them whole, asked only when one differs."""
        before = {release_id: entry.generation for release_id, entry in self._entries.items()}
        marks = await read_marks()
        # An entry added or moved while the marks were being read is newer than they are.
        gone = [
            release_id
            for release_id, entry in self._entries.items()
            if release_id not in marks and before.get(release_id) == entry.generation
        ]
        for release_id in gone:
            del self._entries[release_id]
        stale = [
            release_id
            for release_id, mark in marks.items()
            if (entry := self._entries.get(release_id)) is None
            or (entry.release.attempt, entry.release.stage, entry.release.state.value) != mark
        ]
        if stale:
            for release in await load():
                if release.id in stale:
                    entry = self._entries.get(release.id)
                    # A retry (a new attempt) starts reading at once, as its Watch says.
                    retried = entry is not None and entry.release.attempt != release.attempt
                    self.watch(release, start=self._clock.now() if retried else None)

    def clear(self) -> None:
        """Forget every entry (the guard duty moved to another replica)."""
        self._entries.clear()
        self._heap.clear()

    def watching(self) -> list[int]:
        return sorted(self._entries)

    def next_due(self) -> datetime | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    # ------------------------------------------------------------ firing

    async def fire_due(self) -> int:
        """Fire every tick due by now, in due order, one after the other (virtual clock)."""
        fired = 0
        for release, at in self._take_due():
            await self._tick(release, at)
            fired += 1
        return fired

    async def start(self) -> None:
        if not self._clock.virtual and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="guard-ticks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            for release, at in self._take_due():
                # Each tick on its own task: one slow metric source holds up no other.
                task = asyncio.create_task(self._tick(release, at))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            due = self.next_due()
            self._wake.clear()
            delay = None if due is None else (due - self._clock.now()).total_seconds()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _tick(self, release: Release, at: datetime) -> None:
        try:
            for measure in watch.tick(release, now=at):
                assert isinstance(measure, Measure)
                if not self._on_duty():
                    return
                await self._measure(measure)
        except Exception:
            # The next tick reads again; a tick must never take the schedule down with it.
            log.exception("guard tick failed", extra={"release_id": release.id})

    def _take_due(self) -> list[tuple[Release, datetime]]:
        """Pop every entry due by now and schedule its next tick one ``plan.tick`` later."""
        now = self._clock.now()
        taken: list[tuple[Release, datetime]] = []
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return taken
            due, _, release_id = heapq.heappop(self._heap)
            entry = self._entries[release_id]
            tick = entry.release.plan.tick
            # From the due time, not from now, so the samples do not drift; after a stall
            # (a slow start, a suspended machine) the next one is a whole tick away.
            following = due + tick if due + tick > now else now + tick
            self._push(entry, following)
            # Sampled at the moment it was due, not a few ms later: samples a tick apart
            # to the microsecond, so a breach for exactly ``for`` is seen as sustained at
            # the sample that shows it. Later than a whole tick, it is sampled now.
            taken.append((entry.release, due if now - due < tick else now))

    def _schedule(self, release: Release, due_at: datetime) -> None:
        entry = _Entry(release, due_at, 0)
        self._entries[release.id] = entry
        self._push(entry, due_at)

    def _push(self, entry: _Entry, due_at: datetime) -> None:
        self._generation += 1
        entry.due_at, entry.generation = due_at, self._generation
        heapq.heappush(self._heap, (due_at, self._generation, entry.release.id))
        self._wake.set()

    def _drop_stale(self) -> None:
        while self._heap:
            _, generation, release_id = self._heap[0]
            entry = self._entries.get(release_id)
            if entry is not None and entry.generation == generation:
                return
            heapq.heappop(self._heap)
