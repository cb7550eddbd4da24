"""Where the CPU of an event goes: ``python -m bench.profile_events [OPENS]``.

Opens OPENS incidents (default 1,000) with ``/incident open P2 …`` through the console's
dispatch on SQLite with a virtual clock, then moves the clock 30 minutes so every timer
those incidents armed fires (response due, escalation steps, reminders), each phase under
cProfile. Prints the CPU per event, then each phase's heaviest frames by inclusive time:
Shipwatch's own functions and the libraries' (SQLAlchemy, pydantic, json). The figures in
the README's *Performance* section come from it. Not one of ``make bench``'s benchmarks:
the profiler slows what it watches about twofold, so CPU per event is also measured
without it first.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import build_app
from bot.app import Application
from bot.clock import VirtualClock
from bot.console import Console

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: working hours
ROOT = str(Path(__file__).resolve().parent.parent) + "/"
OURS = ("/bot/", "/commands/", "/playbooks/", "/storage/")
TOP = 25


async def _opens(console: Console, first: int, count: int) -> None:
    for n in range(first, first + count):
        await console.handle_line(f"/incident open P2 checkout errors {n}")


class Profiles:
    """cProfile on the event loop's thread and on the database thread (SQLite has one:
    every transaction runs there), as one set of figures, in CPU time."""

    def __init__(self, app: Application, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled
        # Each thread's own CPU time, so the loop's waits in epoll count for nothing.
        self.loop = cProfile.Profile(time.thread_time)
        self.db = cProfile.Profile(time.thread_time)

    async def start(self) -> None:
        if self.enabled:
            await self.app.db.run(self.db.enable)
            self.loop.enable()

    async def stop(self) -> pstats.Stats | None:
        if not self.enabled:
            return None
        self.loop.disable()
        await self.app.db.run(self.db.disable)
        stats = pstats.Stats(self.loop, stream=sys.stdout)
        stats.add(self.db)
        return stats


async def measure(folder: str, opens: int, profile: bool) -> dict[str, object]:
    clock = VirtualClock(START)
    app, adapter, engine = build_app(f"sqlite:///{folder}/profile.db", clock, io.StringIO())
    await app.start()
    try:
        console = Console(app, adapter, user="alice", channel="#ops", locale="en")
        await _opens(console, 0, 5)  # warm caches: compiled statements, templates
        profiles = Profiles(app, profile)
        await profiles.start()
        cpu = time.process_time()
        await _opens(console, 5, opens)
        open_cpu = time.process_time() - cpu
        open_stats = await profiles.stop()
        fired_before = _fired(app)
        profiles = Profiles(app, profile)
        await profiles.start()
        cpu = time.process_time()
        await app.advance_to(clock.now() + timedelta(minutes=30))
        timer_cpu = time.process_time() - cpu
        timer_stats = await profiles.stop()
        fired = _fired(app) - fired_before
    finally:
        await app.stop()
        engine.dispose()
    return {
        "opens": opens,
        "open_cpu_ms": round(open_cpu * 1000 / opens, 2),
        "timers_fired": fired,
        "timer_phase_cpu_s": round(timer_cpu, 2),
        "timer_cpu_ms": round(timer_cpu * 1000 / max(fired, 1), 2),
        "open_stats": open_stats,
        "timer_stats": timer_stats,
    }


def _fired(app: Application) -> int:
    """Invocations handled so far (``shipwatch_commands``); nobody types in the timer
    phase, so what it adds there are timers fired."""
    return sum(
        int(sample.value)
        for metric in app.metrics.registry.collect()
        if metric.name == "shipwatch_commands"
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def top(stats: pstats.Stats, ours: bool) -> list[tuple[float, str]]:
    """The heaviest frames by inclusive time, as a share of the phase's total."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]  # both threads' CPU
    rows = []
    for (path, line, name), (_, _, _, cumulative, _) in entries.items():
        if (any(part in path for part in OURS) and "/site-packages/" not in path) != ours:
            continue
        where = path.split("/site-packages/")[-1].removeprefix(ROOT)
        rows.append((cumulative / total, f"{where}:{line}({name})"))
    return sorted(rows, reverse=True)[:TOP]


def main() -> None:
    opens = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="shipwatch-profile-") as folder:
        plain = asyncio.run(measure(folder + "/", opens, profile=False))
    with tempfile.TemporaryDirectory(prefix="shipwatch-profile-") as folder:
        profiled = asyncio.run(measure(folder + "/", opens, profile=True))
    print(
        f"{opens} opens: {plain['open_cpu_ms']} ms of CPU each; then 30 virtual minutes: "
        f"{plain['timers_fired']} timers fired, {plain['timer_phase_cpu_s']} s of CPU, "
        f"{plain['timer_cpu_ms']} ms a timer (without the profiler; measured {time.ctime()})"
    )
    for phase in ("open_stats", "timer_stats"):
        stats = profiled[phase]
        assert isinstance(stats, pstats.Stats)
        for ours in (True, False):
            print(f"\n== {phase.removesuffix('_stats')}: {'Shipwatch' if ours else 'libraries'}")
            for share, frame in top(stats, ours):
                print(f"  {share:6.1%}  {frame}")


if __name__ == "__main__":
    main()
