"""Duties that need one owner among replicas (guard ticks, long polling), held by lease."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.clock import Clock
from storage.repositories import duties as leases
from storage.unit_of_work import unit_of_work

log = logging.getLogger("shipwatch.duties")
# A holder renews every RENEW; a lease it stops renewing (kill -9) lapses after TTL, and a
# survivor, renewing on the same beat, takes it within TTL + RENEW = 8 s.
TTL = timedelta(seconds=6)
RENEW = timedelta(seconds=2)
_MIN_WAIT = 0.05


@dataclass(frozen=True, slots=True)
class Duty:
    """Work for one replica at a time: ``start`` when this replica gains it, ``stop`` when
    it loses or gives it up."""

    name: str
    start: Callable[[], Awaitable[None]]
    stop: Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _Tenure:
    token: int  # the lease's fencing token while this replica holds it
    valid_until: datetime  # by our own clock, counted from before the renewal was sent


class DutyKeeper:
    """Takes, renews and gives back this replica's duties.

    ``shared`` (PostgreSQL on the wall clock): one task renews every lease each ``renew``
    with one conditional UPDATE, starts a duty when its lease is won and stops it when the
    lease is lost, lapses, or changed hands in between (its token moved). Otherwise (SQLite,
    or a virtual clock in drills and tests) there is one process: it holds every duty,
    and the database is not asked, so a drill's output never depends on a lease.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        instance_id: str,
        shared: bool,
        ttl: timedelta = TTL,
        renew: timedelta = RENEW,
        on_gain: Callable[[], object] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.instance_id = instance_id
        self.shared = shared
        self._ttl = ttl
        self._renew = renew
        self._on_gain = on_gain
        self._duties: dict[str, Duty] = {}
        self._held: dict[str, _Tenure] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._started = False
        self._unreachable = False  # the database failed the last round (logged once)

    def add(self, duty: Duty) -> None:
        self._duties[duty.name] = duty

    def names(self) -> list[str]:
        return sorted(self._duties)

    def holds(self, name: str) -> bool:
        """Whether this replica may do ``name``'s work now: asked before each unit of it,
        so nothing runs once the lease may have lapsed, renewed or not."""
        if not self.shared:
            return name in self._duties
        tenure = self._held.get(name)
        return tenure is not None and self._clock.now() < tenure.valid_until

    def held(self) -> dict[str, int]:
        """The duties this replica holds now, with their fencing tokens (0 when alone)."""
        if not self.shared:
            return dict.fromkeys(self._duties, 0) if self._started else {}
        return {name: t.token for name, t in sorted(self._held.items()) if self.holds(name)}

    async def start(self) -> None:
        self._started = True
        self._stopping.clear()
        if not self.shared:
            for duty in self._duties.values():
                await self._start(duty)
            return
        await self.renew_all()  # the first round now: a lone replica starts with its duties
        self._task = asyncio.create_task(self._loop(), name="duty-keeper")

    async def stop(self) -> None:
        """Stop every duty and give its lease back, so a survivor takes it at once."""
        if self._task is not None:
            # Not cancelled mid-round: a renewal already sent would still commit, after
            # the lease was given back, and hold it again for a whole TTL.
            self._stopping.set()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if not self.shared:
            if self._started:
                for duty in reversed(list(self._duties.values())):
                    await self._stop(duty)
            self._started = False
            return
        for name in list(self._held):
            await self._lose(self._duties[name], why="stopping")
            try:
                await asyncio.to_thread(self._release, name, self._clock.now())
            except Exception:
                log.warning(
                    "could not give a duty back; it lapses on its own", extra={"duty": name}
                )
        self._started = False

    async def renew_all(self) -> None:
        """One round: renew or take each lease, and start or stop duties to match."""
        for duty in self._duties.values():
            sent_at = self._clock.now()
            try:
                token = await asyncio.to_thread(self._acquire, duty.name, sent_at)
            except Exception:
                if not self._unreachable:
                    log.warning("cannot renew duty leases; retrying", exc_info=True)
                self._unreachable = True
                if duty.name in self._held and not self.holds(duty.name):
                    await self._lose(duty, why="lease lapsed unrenewed")
                continue
            if self._unreachable:
                log.info("duty leases renewed again")
                self._unreachable = False
            await self._settle(duty, token, valid_until=sent_at + self._ttl)

    async def _settle(self, duty: Duty, token: int | None, *, valid_until: datetime) -> None:
        tenure = self._held.get(duty.name)
        if token is None:
            if tenure is not None:
                await self._lose(duty, why="held by another replica")
            return
        if tenure is not None and tenure.token != token:
            # Our lease lapsed and another replica held it in between: what we keep in
            # memory for it may be stale, so this is a new tenure, started afresh.
            await self._lose(duty, why="held by another replica meanwhile")
            tenure = None
        if tenure is not None:
            tenure.valid_until = valid_until
            return
        self._held[duty.name] = _Tenure(token, valid_until)
        log.info("duty taken", extra={"duty": duty.name, "tenure": token})
        if not await self._start(duty):
            # Let another replica try: a duty that cannot start here is no use held here.
            self._held.pop(duty.name, None)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._release, duty.name, self._clock.now())
            return
        if self._on_gain is not None:
            # What the previous holder armed may not be armed here yet: look again now.
            gained = self._on_gain()
            if inspect.isawaitable(gained):
                await gained

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._wait())
            if self._stopping.is_set():
                return
            try:
                await self.renew_all()
            except Exception:
                log.exception("duty round failed; retrying")

    def _wait(self) -> float:
        """Until the next renewal, or sooner where a lease would lapse first."""
        now = self._clock.now()
        wait = self._renew.total_seconds()
        for tenure in self._held.values():
            wait = min(wait, (tenure.valid_until - now).total_seconds())
        return max(_MIN_WAIT, wait)

    async def _start(self, duty: Duty) -> bool:
        try:
            await duty.start()
        except Exception:
            log.exception("duty failed to start", extra={"duty": duty.name})
            return False
        return True

    async def _stop(self, duty: Duty) -> None:
        try:
            await duty.stop()
        except Exception:
            log.exception("duty failed to stop", extra={"duty": duty.name})

    async def _lose(self, duty: Duty, *, why: str) -> None:
        self._held.pop(duty.name, None)  # first, so no unit of work starts meanwhile
        log.info("duty given up", extra={"duty": duty.name, "reason": why})
        await self._stop(duty)

    def _acquire(self, name: str, now: datetime) -> int | None:
        with unit_of_work(self._engine) as session:
            return leases.acquire(
                session, name=name, holder=self.instance_id, now=now, ttl=self._ttl
            )

    def _release(self, name: str, now: datetime) -> None:
        with unit_of_work(self._engine) as session:
            leases.release(session, name=name, holder=self.instance_id, now=now)
