"""This process as one replica among several: its instance id, its duties, what it hears."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence

from sqlalchemy import Engine

from bot.adapters.base import Adapter, SolePoller
from bot.clock import Clock
from bot.duties import Duty, DutyKeeper
from bot.guard_ticks import GuardTicks
from bot.metrics import Metrics
from bot.notice_listener import NoticeListener
from playbooks.releases.machine import Release

GUARDS = "guard-ticks"


def polling_duty(platform: str) -> str:
    return f"{platform}-polling"


def new_instance_id() -> str:
    """Host, process and a random tail: unique even when a container reuses a pid. At most
    55 characters, to fit the holder of a lease and the owner of an outbox claim."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Replica:
    """The duties this process may hold and the notices it listens for.

    Only PostgreSQL on the wall clock has other replicas; there the keeper takes leases
    and a listener hears other replicas' commits. Otherwise this process holds every duty
    from the start and listens to nobody.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Clock,
        metrics: Metrics,
        ticks: GuardTicks,
        live: Callable[[], Awaitable[Sequence[Release]]],
        adapters: Mapping[str, Adapter],
        sweep_timers: Callable[[], object],
        wake_delivery: Callable[[], None],
        reconcile_ticks: Callable[[], object],
        instance_id: str,
        changes_heard: Callable[[str], None] | None = None,
    ) -> None:
        self.shared = engine.dialect.name == "postgresql" and not clock.virtual
        self.instance_id = instance_id
        self._ticks = ticks
        self._live = live
        self.duties = DutyKeeper(
            engine=engine,
            clock=clock,
            instance_id=self.instance_id,
            shared=self.shared,
            on_gain=sweep_timers,
        )
        self.duties.add(Duty(GUARDS, self._start_guards, self._stop_guards))
        for platform, adapter in adapters.items():
            if isinstance(adapter, SolePoller) and adapter.polls():
                self.duties.add(
                    Duty(polling_duty(platform), adapter.start_polling, adapter.stop_polling)
                )
        metrics.add_duties(self.duties.names, self.duties.holds)
        self.listener: NoticeListener | None = None
        if self.shared:
            self.listener = NoticeListener(
                engine.url,
                {"timers": sweep_timers, "outbox": wake_delivery, "guards": reconcile_ticks},
                other=changes_heard,
            )

    async def start(self) -> None:
        if self.listener is not None:
            await self.listener.start()
        await self.duties.start()

    async def stop(self) -> None:
        await self.duties.stop()
        if self.listener is not None:
            await self.listener.stop()

    async def _start_guards(self) -> None:
        """Read every live release's guards from now on, beginning with a reading now."""
        releases = await self._live()
        self._ticks.rebuild(releases)
        await self._ticks.start()

    async def _stop_guards(self) -> None:
        await self._ticks.stop()
        self._ticks.clear()
