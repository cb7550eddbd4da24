"""Benchmark 7: what SQLite's ``synchronous=FULL`` costs against ``NORMAL`` in WAL mode.

NORMAL loses nothing to a killed process but can lose the last commits to a power cut;
FULL syncs the WAL at every commit. Both are measured on the same disk: console command
round trips (p50/p99) and single-row commits per second. The target is the dispatch
benchmark's (p99 < 15 ms) met with the mode ``storage.engine`` ships.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from bench.common import build_app, not_ok, percentile, run_as_script
from bot.clock import WallClock
from bot.console import Console
from storage.engine import SQLITE_SYNCHRONOUS
from storage.models import SeenEvent
from storage.unit_of_work import unit_of_work

ROUND_TRIPS = 600
WARMUP = 30
COMMITS = 1_500
TARGET_P99_MS = 15.0
COMMANDS = ("/remind 10m durable {n}", "/reminders", "/incident list")
MODES = ("NORMAL", "FULL")
# On this disk, not in a RAM-backed /tmp: a sync that costs nothing would measure nothing.
SCRATCH = Path(__file__).resolve().parent.parent / "var"


def with_synchronous(engine: Engine, mode: str) -> str:
    """Every new connection of ``engine`` in ``mode``; what SQLite then reports."""

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={mode}")

    event.listen(engine, "connect", pragma)  # after the engine's own pragmas
    engine.dispose()  # connections opened for the migrations had the shipped mode
    with engine.connect() as connection:
        return {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
            int(connection.execute(text("PRAGMA synchronous")).scalar_one())
        ]


async def measure(folder: str, mode: str) -> dict[str, float | str]:
    app, adapter, engine = build_app(f"sqlite:///{folder}/{mode}.db", WallClock(), io.StringIO())
    actual = with_synchronous(engine, mode)
    await app.start()
    try:
        console = Console(app, adapter, user="alice", channel="#ops", locale="en")
        timings: list[float] = []
        for n in range(WARMUP + ROUND_TRIPS):
            started = time.perf_counter()
            await console.handle_line(COMMANDS[n % len(COMMANDS)].format(n=n))
            if n >= WARMUP:
                timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for n in range(COMMITS):  # one small transaction each, as a webhook's ledger row
            with unit_of_work(engine) as session:
                session.add(SeenEvent(source="bench", event_id=f"e{n}", seen_at=datetime.now(UTC)))
        commits_per_s = COMMITS / (time.perf_counter() - started)
    finally:
        await app.stop()
        engine.dispose()
    return {
        "synchronous": actual,
        "p50_ms": round(percentile(timings, 50), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "commits_per_s": round(commits_per_s),
        "not_ok": not_ok(app),
    }


def main() -> dict[str, object]:
    SCRATCH.mkdir(exist_ok=True)
    results: dict[str, dict[str, float | str]] = {}
    with tempfile.TemporaryDirectory(prefix="shipwatch-bench-", dir=SCRATCH) as folder:
        for mode in MODES:
            results[mode] = asyncio.run(measure(folder, mode))
    shipped = results[SQLITE_SYNCHRONOUS]
    figures: dict[str, object] = {
        "benchmark": "durability",
        "target": f"with synchronous={SQLITE_SYNCHRONOUS} (shipped), round trip p99 < "
        f"{TARGET_P99_MS:g} ms",
        "pass": float(shipped["p99_ms"]) < TARGET_P99_MS
        and all(r["not_ok"] == 0 and r["synchronous"] == m for m, r in results.items()),
    }
    for mode, result in results.items():
        for key, value in result.items():
            if key != "synchronous":
                figures[f"{mode.lower()}_{key}"] = value
    return figures


if __name__ == "__main__":
    run_as_script(main)
