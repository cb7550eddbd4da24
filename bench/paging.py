"""Benchmark: paging. From a P0 opened (by command, and by an Alertmanager webhook over
HTTP) to its first page committed to the outbox, p99 < 100 ms; and 1,000 pages in flight
with 3-step escalations on the wall clock, every step firing within 250 ms of due.

Both run the real application on SQLite in a temporary directory, with the shipped team
``web`` (its escalation waits shortened to ``STEP_WAIT`` so the run lasts minutes, and
its page budget raised so that no notification is held: the budget is not measured).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from sqlmodel import Session, col, func, select

from bench.common import not_ok, percentile, run_as_script
from bot.adapters.console import ConsoleAdapter
from bot.app import Application, open_database
from bot.clock import WallClock
from bot.config.directory import DEFAULTS, load
from bot.http import serve
from bot.settings import Settings
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation
from storage.models import OutboxMessage, PageEvent, PageRow

PROBES = int(os.environ.get("BENCH_PAGING_PROBES", "200"))
PAGES = int(os.environ.get("BENCH_PAGING_PAGES", "1000"))
CREATE_OVER = float(os.environ.get("BENCH_PAGING_CREATE_S", "25"))  # pages start over this
STEP_WAIT = int(os.environ.get("BENCH_PAGING_WAIT_S", "30"))
TOKEN = "bench-alertmanager-token"
TARGET_OPEN_P99_MS = 100.0
TARGET_STEP_MS = 250.0


def config_dir(folder: Path) -> Path:
    """The shipped configuration, the web team's waits shortened and its budget raised."""
    target = folder / "config"
    shutil.copytree(DEFAULTS, target)
    teams = (target / "teams.yaml").read_text(encoding="utf-8")
    teams = teams.replace("repeat: 2", "repeat: 0")
    for wait in ("5m", "10m"):
        teams = teams.replace(f"wait: {wait}", f"wait: {STEP_WAIT}s")
    teams += "    page_budget: {count: 1000, window: 1m}\n"
    (target / "teams.yaml").write_text(teams, encoding="utf-8")
    return target


def build(folder: Path, name: str, out: TextIO) -> Application:
    for variable in [n for n in os.environ if n.startswith("SHIPWATCH_")]:
        del os.environ[variable]
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{folder}/{name}.db",
        config_dir=config_dir(folder) if not (folder / "config").exists() else folder / "config",
        alertmanager_token=TOKEN,
    )
    return Application(
        settings=settings,
        config=load(settings.config_dir),
        engine=open_database(settings),
        clock=WallClock(),
        adapters={"console": ConsoleAdapter(out)},
    )


def alert_body(n: int, status: str) -> dict[str, Any]:
    labels = {"alertname": f"Probe{n}", "service": "web", "page": "true"}
    alert = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"probe {n} on web"},
        "startsAt": "2026-11-23T01:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-23T01:05:00.000Z",
        "fingerprint": f"{n:016x}",
    }
    group = {"alertname": labels["alertname"], "service": "web"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Probe{n}", service="web"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "shipwatch",
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [alert],
    }


def page_dms(app: Application) -> int:
    with Session(app.engine) as session:
        query = select(func.count()).select_from(OutboxMessage)
        return session.exec(query.where(OutboxMessage.kind == "direct")).one()


async def opening(folder: Path, out: TextIO) -> dict[str, Any]:
    """P0 incidents opened by command, then by webhook: each dispatch returns once its
    transaction (the incident, its page, the page's first notification) is committed."""
    app = build(folder, "opening", out)
    await app.start()
    worker = asyncio.create_task(app.delivery.run())
    by_command: list[float] = []
    by_webhook: list[float] = []
    runner, port = await serve(app, host="127.0.0.1", port=0)
    try:
        for n in range(PROBES):
            line = f'/incident open "probe {n} checkout failing" --sev P0 --service web'
            started = time.perf_counter()
            outcome = await app.dispatch(
                CommandInvocation("console", "alice", Conversation("console", "#ops"), line)
            )
            by_command.append((time.perf_counter() - started) * 1000)
            assert outcome.status == "ok", outcome
            await asyncio.sleep(0)  # let the delivery worker run, as it would between requests
        commanded = page_dms(app)
        url = f"http://127.0.0.1:{port}/hooks/alertmanager"
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as client:
            for n in range(PROBES):
                started = time.perf_counter()
                async with client.post(
                    url, data=json.dumps(alert_body(n, "firing")), headers=headers
                ) as r:
                    answer = await r.json()
                by_webhook.append((time.perf_counter() - started) * 1000)
                assert answer.get("action") == "opened", answer
                # Resolved at once, so the next group opens its own incident (no storm).
                async with client.post(
                    url, data=json.dumps(alert_body(n, "resolved")), headers=headers
                ) as r:
                    await r.read()
        with Session(app.engine) as session:
            pages = session.exec(select(func.count()).select_from(PageRow)).one()
    finally:
        await runner.cleanup()
        await app.stop()
        await worker
        app.engine.dispose()
    p99_command, p99_webhook = percentile(by_command, 99), percentile(by_webhook, 99)
    return {
        "open_probes": PROBES,
        "open_pages": pages,
        "open_cmd_dm_rows": commanded,
        "open_cmd_p50_ms": round(percentile(by_command, 50), 1),
        "open_cmd_p99_ms": round(p99_command, 1),
        "open_cmd_max_ms": round(max(by_command), 1),
        "open_hook_p50_ms": round(percentile(by_webhook, 50), 1),
        "open_hook_p99_ms": round(p99_webhook, 1),
        "open_hook_max_ms": round(max(by_webhook), 1),
        "open_not_ok": not_ok(app),
        "_open_pass": pages == 2 * PROBES
        and commanded >= PROBES
        and max(p99_command, p99_webhook) < TARGET_OPEN_P99_MS,
    }


def step_lateness(app: Application) -> tuple[list[float], int]:
    """Each timer-fired step's lateness: its time less (the step before + the wait)."""
    wait = timedelta(seconds=STEP_WAIT)
    with Session(app.engine) as session:
        rows = session.exec(
            select(PageEvent.page_id, PageEvent.at, PageEvent.kind).order_by(
                col(PageEvent.page_id), col(PageEvent.id)
            )
        ).all()
    lateness: list[float] = []
    previous: dict[int, datetime] = {}
    for page_id, at, kind in rows:
        if kind not in ("notify", "nobody", "exhausted"):
            continue
        if page_id in previous:
            lateness.append((at - (previous[page_id] + wait)).total_seconds() * 1000)
        previous[page_id] = at
    return lateness, len(previous)


async def escalating(folder: Path, out: TextIO) -> dict[str, Any]:
    """1,000 pages started over ``CREATE_OVER`` seconds; each runs 3 steps and then says
    nobody answered: 3 timer firings a page, all on the wall clock."""
    app = build(folder, "escalating", out)
    await app.start()
    worker = asyncio.create_task(app.delivery.run())
    started = time.perf_counter()
    try:
        for n in range(PAGES):
            due = started + n * CREATE_OVER / PAGES
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await app.dispatch(
                CommandInvocation(
                    "console",
                    "alice",
                    Conversation("console", "#ops"),
                    f'/page web "bench page {n}" --sev P1',
                )
            )
        finish = time.monotonic() + 3 * STEP_WAIT + 30
        while time.monotonic() < finish:  # bounded: every page exhausts by then
            with Session(app.engine) as session:
                left = session.exec(
                    select(func.count()).select_from(PageEvent).where(PageEvent.kind == "exhausted")
                ).one()
            if left >= PAGES:
                break
            await asyncio.sleep(1)
    finally:
        await app.stop()
        await worker
    lateness, pages = step_lateness(app)
    app.engine.dispose()
    p99 = percentile(lateness, 99) if lateness else float("inf")
    worst = max(lateness) if lateness else float("inf")
    return {
        "pages": pages,
        "steps_fired": len(lateness),
        "step_late_p50_ms": round(percentile(lateness, 50), 1) if lateness else None,
        "step_late_p99_ms": round(p99, 1),
        "step_late_max_ms": round(worst, 1),
        "steps_over_250ms": sum(1 for v in lateness if v > TARGET_STEP_MS),
        "step_not_ok": not_ok(app),
        "_step_pass": len(lateness) == 3 * PAGES and worst < TARGET_STEP_MS,
    }


def main() -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory(prefix="shipwatch-bench-") as name,
        open(os.devnull, "w") as sink,
    ):
        folder = Path(name)
        first = asyncio.run(opening(folder, sink))
        second = asyncio.run(escalating(folder, sink))
    opened_in_time, stepped_in_time = first.pop("_open_pass"), second.pop("_step_pass")
    verdict = bool(opened_in_time) and bool(stepped_in_time)
    return {
        "benchmark": "paging",
        "target": (
            f"P0 open to first page in the outbox p99 < {TARGET_OPEN_P99_MS:g} ms; "
            f"1,000 pages x 3 steps, every step within {TARGET_STEP_MS:g} ms of due"
        ),
        "pass": verdict,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **first,
        **second,
    }


if __name__ == "__main__":
    run_as_script(main)
