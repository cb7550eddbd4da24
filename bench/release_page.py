"""Benchmark: the console's release page with a week of 5-second guard readings.

Target: ``GET /web/releases/{id}`` renders in < 100 ms p99 on SQLite, with every guard of
the release drawn over the whole week; the page's size is reported (as sent and gzipped).

A release of ``web`` (plan standard: three guards) is started on a virtual clock; a week
of readings is written for each guard as the watch keeps them (120,960 readings per
guard, one every 5 s, and each minute's lowest and highest), the clock is moved a week
on, and the page's handler is called RUNS times for a signed-in viewer, each call the
whole of it: the read on the database thread, the buckets cut in SQL, the charts and
the template. The request is built in-process (``make_mocked_request``) before the clock
starts: what is timed is the page, not the sign-in or the socket.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import tempfile
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import Engine

from bench.common import build_app, percentile, run_as_script
from bot.clock import VirtualClock
from bot.hooks import APP_KEY
from bot.web.console import releases
from bot.web.console.viewer import VIEWER_KEY, Viewer
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation
from storage.repositories import guard_readings
from storage.unit_of_work import unit_of_work

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
EVERY_S = 5
WARMUP = 10
RUNS = 200
TARGET_P99_MS = 100.0


def fill(engine: Engine, release_id: int, guards: list[tuple[str, float]]) -> int:
    """A week of readings for each guard: a slow wave around ``base`` with spikes."""
    written = 0
    first = int(START.timestamp())
    for guard, base in guards:
        readings = [
            (
                first + i * EVERY_S,
                base * (1 + 0.06 * ((i // 720) % 5) + (0.5 if i % 997 == 0 else 0)),
            )
            for i in range(int(WEEK.total_seconds()) // EVERY_S)
        ]
        with unit_of_work(engine) as session:
            guard_readings.backfill(session, release_id=release_id, guard=guard, readings=readings)
        written += len(readings)
    return written


def request(app: object, path: str, release_id: int) -> web.Request:
    web_app = web.Application()
    web_app[APP_KEY] = app  # type: ignore[misc]
    person = app.config.directory.get("alice")  # type: ignore[attr-defined]
    made = make_mocked_request("GET", path, app=web_app, match_info={"id": str(release_id)})
    made[VIEWER_KEY] = Viewer(
        person=person, locale="en", tz=ZoneInfo("Asia/Shanghai"), csrf="c" * 32, session_id="b"
    )
    return made


async def measure(folder: str) -> dict[str, object]:
    clock = VirtualClock(START)
    app, _, engine = build_app(f"sqlite:///{folder}/page.db", clock, io.StringIO())
    await app.start()
    try:
        out = await app.dispatch(
            CommandInvocation(
                "console", "alice", Conversation("console", "#ops"), "/release start web 2.0.0"
            )
        )
        assert out.status == "ok", out
        await app.settle()
        started = time.perf_counter()
        plan = app.config.releases.catalog.plans["standard"]
        guards = [(g.name, (g.max or 1.0) * 0.4) for g in plan.guards]
        points = fill(engine, 1, guards)
        fill_s = time.perf_counter() - started
        clock.advance_to(START + WEEK)  # the clock only: no week of ticks is run
        path = "/web/releases/1"
        timings, sizes = [], set()
        cpu = 0.0
        for run in range(WARMUP + RUNS):
            made = request(app, path, 1)
            began, cpu_began = time.perf_counter(), time.process_time()
            response = await releases._detail(made)
            took = (time.perf_counter() - began) * 1000
            assert response.status == 200
            if run >= WARMUP:
                timings.append(took)
                cpu += time.process_time() - cpu_began
                sizes.add(len((response.text or "").encode()))
        body = (response.text or "").encode()
    finally:
        await app.stop()
        engine.dispose()
    p99 = percentile(timings, 99)
    return {
        "benchmark": "release_page",
        "target": f"release page with a week of 5 s readings p99 < {TARGET_P99_MS:g} ms",
        "pass": p99 < TARGET_P99_MS and body.count(b"<svg") == len(guards),
        "guards": len(guards),
        "readings": points,
        "fill_s": round(fill_s, 1),
        "runs": len(timings),
        "p50_ms": round(percentile(timings, 50), 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(max(timings), 2),
        # CPU time of this process per page (both threads): what load on the machine
        # does not inflate
        "cpu_mean_ms": round(cpu * 1000 / len(timings), 2),
        "page_bytes": max(sizes),
        "page_gzip_bytes": len(gzip.compress(body)),
    }


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder:
        return asyncio.run(measure(folder))


if __name__ == "__main__":
    run_as_script(main)
