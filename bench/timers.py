"""Benchmark 2: 10,000 armed timers fire within 250 ms of due (p99), RSS under 200 MB."""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import TextIO

from sqlalchemy import Engine, func, insert
from sqlmodel import Session, select

from bench.common import build_app, not_ok, percentile, run_as_script
from bot.clock import WallClock
from playbooks.reminders import TIMER_KIND, timer_key
from storage.models import OutboxMessage, Reminder, Timer
from storage.repositories import timers

TIMERS = int(os.environ.get("BENCH_TIMERS_COUNT", "10000"))
LEAD = timedelta(seconds=5)  # the first timer falls due this long after the rows are written
# the rest follow evenly over this span (BENCH_TIMERS_SPREAD_S=5: 2,000 due a second)
SPREAD = timedelta(seconds=float(os.environ.get("BENCH_TIMERS_SPREAD_S", "50")))
GRACE = timedelta(seconds=30)  # give up this long after the last one was due
POLL = 0.5  # seconds between checks that every timer has fired
TARGET_P99_MS = 250.0
TARGET_RSS_MB = 200.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def arm_rows(engine: Engine, start: datetime) -> None:
    """Write 10,000 pending reminders and their timers, as 10,000 ``/remind`` would have."""
    now = datetime.now(UTC)
    step = SPREAD / (TIMERS - 1)
    due = [start + step * n for n in range(TIMERS)]
    with engine.begin() as connection:
        connection.execute(
            insert(Reminder.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": n + 1,
                    "platform": "console",
                    "channel": f"#ops-{n % 20}",
                    "author": "alice",
                    "text": f"bench reminder {n + 1}",
                    "due_at": due[n],
                    "state": "pending",
                    "created_at": now,
                }
                for n in range(TIMERS)
            ],
        )
        connection.execute(
            insert(Timer.__table__),  # type: ignore[attr-defined]
            [
                {
                    "key": timer_key(n + 1),
                    "kind": TIMER_KIND,
                    "due_at": due[n],
                    "payload": {"reminder_id": n + 1},
                    "state": "pending",
                    "fired_late": False,
                    "created_at": now,
                }
                for n in range(TIMERS)
            ],
        )


def pending_count(engine: Engine) -> int:
    with Session(engine) as session:
        return timers.count_pending(session)


async def measure(folder: str, sink: TextIO) -> dict[str, object]:
    app, _, engine = build_app(f"sqlite:///{folder}/timers.db", WallClock(), sink)
    rss_before = peak_rss_mb()
    start = datetime.now(UTC) + LEAD
    arm_rows(engine, start)
    started, cpu = time.perf_counter(), time.process_time()
    await app.start()  # fires nothing yet; its sweep arms all 10,000 in APScheduler
    arm_seconds = time.perf_counter() - started
    worker = asyncio.create_task(app.delivery.run())
    deadline = start + SPREAD + GRACE
    try:
        while True:  # bounded: gives up at the deadline
            if not pending_count(engine) or datetime.now(UTC) > deadline:
                break
            await asyncio.sleep(POLL)
    finally:
        await app.stop()
        await worker
    busy = (time.process_time() - cpu) / (time.perf_counter() - started)
    with Session(engine) as session:
        rows = session.exec(select(Timer.due_at, Timer.fired_at, Timer.state)).all()
        sent = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "sent")
        ).one()
    engine.dispose()
    fired_rows = [(due, at) for due, at, state in rows if state == "fired" and at is not None]
    lateness = [(at - due).total_seconds() * 1000 for due, at in fired_rows]
    fired = len(lateness)
    span = max(at for _, at in fired_rows) - min(at for _, at in fired_rows) if fired_rows else None
    p99 = percentile(lateness, 99) if lateness else float("inf")
    rss = peak_rss_mb()
    failures = not_ok(app)
    return {
        "benchmark": "timers",
        "target": f"lateness p99 < {TARGET_P99_MS:g} ms, all fire, RSS < {TARGET_RSS_MB:g} MB",
        "pass": fired == TIMERS and failures == 0 and p99 < TARGET_P99_MS and rss < TARGET_RSS_MB,
        "timers": TIMERS,
        "fired": fired,
        "not_ok": failures,  # firings that failed: must be 0
        "delivered": sent,
        "arm_s": round(arm_seconds, 2),
        "due_per_s": round(TIMERS / SPREAD.total_seconds()),
        "fired_per_s": round(fired / span.total_seconds()) if span else None,
        "cpu_busy_pct": round(busy * 100),  # near 100: the one event loop is saturated
        "late_p50_ms": round(percentile(lateness, 50), 1) if lateness else None,
        "late_p99_ms": round(p99, 1),
        "late_max_ms": round(max(lateness), 1) if lateness else None,
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(rss, 1),
    }


def main() -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as folder,
        open(os.devnull, "w") as sink,  # where the console adapter prints the reminders
    ):
        return asyncio.run(measure(folder, sink))


if __name__ == "__main__":
    run_as_script(main)
