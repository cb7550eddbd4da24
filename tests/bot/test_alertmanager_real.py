"""A real Alertmanager (Debian's prometheus-alertmanager) delivering to Shipwatch's
``/hooks/alertmanager`` over loopback HTTP: it opens one incident, its repeats change
nothing, and its resolved notification resolves the incident once.

Alertmanager is a separate process on the wall clock: the test waits for its deliveries by
polling with a deadline, yielding to the event loop that serves Shipwatch's HTTP. SQLite
only: the hook's storage is covered on both databases by test_alert_hooks.py.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from bot.http import serve
from storage.models import SeenEvent
from tests.conftest import Harness, HarnessFactory
from tests.fakes.alertmanager_server import AlertmanagerServer, alertmanager_binary
from tests.support import count, incidents, posts, timeline

TOKEN = "am-token-for-real-alertmanager"
WITHIN = 15.0  # seconds for Alertmanager to deliver what the test waits for
POLL_EVERY = 0.1

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

T = TypeVar("T")


def _alertmanager_or_skip() -> str:
    binary = alertmanager_binary()
    if binary is None:
        message = (
            "prometheus-alertmanager is not installed; "
            "apt-get install --no-install-recommends prometheus-alertmanager"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@dataclass
class Wired:
    h: Harness
    am: AlertmanagerServer


@pytest.fixture
async def wired(make_harness: HarnessFactory, tmp_path: Path) -> AsyncIterator[Wired]:
    """Shipwatch listening on a free loopback port, and a real Alertmanager sending every
    alert group to its ``/hooks/alertmanager`` with the token."""
    binary = _alertmanager_or_skip()
    h = await make_harness(alertmanager_token=TOKEN)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    am: AlertmanagerServer | None = None
    try:
        am = AlertmanagerServer.start(
            binary,
            tmp_path / "alertmanager",
            webhook_url=f"http://127.0.0.1:{port}/hooks/alertmanager",
            token=TOKEN,
        )
        yield Wired(h, am)
    finally:
        if am is not None:
            am.stop()
        await runner.cleanup()


def deliveries(h: Harness, outcome: str) -> int:
    """How many Alertmanager deliveries Shipwatch handled with ``outcome``."""
    value = h.app.metrics.registry.get_sample_value(
        "shipwatch_commands_total", {"command": "hook:alert", "outcome": outcome}
    )
    return int(value or 0)


async def until(what: str, check: Callable[[], T], am: AlertmanagerServer) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``WITHIN`` seconds."""
    deadline = time.monotonic() + WITHIN
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"no {what} within {WITHIN:g}s; alertmanager's log:\n{am.log_tail(15)}"
            )
        await asyncio.sleep(POLL_EVERY)  # Shipwatch answers Alertmanager meanwhile


async def sends_settled(
    am: AlertmanagerServer, done: Callable[[tuple[float, float]], bool]
) -> tuple[float, float]:
    """Alertmanager's (sent, failed) webhook counts once ``done`` holds, else after
    ``WITHIN`` seconds: it counts a send when the answer arrives, a moment after
    Shipwatch stored it."""
    deadline = time.monotonic() + WITHIN
    while True:
        reading = await am.notifications()
        if done(reading) or time.monotonic() >= deadline:
            return reading
        await asyncio.sleep(POLL_EVERY)


async def test_real_alertmanager_opens_repeats_and_resolves_one_incident(wired: Wired) -> None:
    h, am = wired.h, wired.am
    labels = {"alertname": "HighErrorRate", "service": "web", "severity": "critical"}
    pushed = await am.fire(labels, {"summary": "5xx above 5% on web"})

    [row] = await until("incident", lambda: incidents(h), am)
    # HighErrorRate is P0 by its name (seed 002's alert table), whatever its label says.
    assert (row.severity, row.service, row.state) == ("P0", "web", "open")
    assert row.title == "HighErrorRate: 5xx above 5% on web"
    assert row.opened_by == "alertmanager"
    assert row.id is not None
    incident = row.id
    opened = timeline(h, incident)
    assert [kind for _, kind, _ in opened][:2] == ["open", "alert"]
    assert 'alertname="HighErrorRate", service="web"' in opened[1][2]  # the real groupKey
    await h.app.settle()
    assert any("[P0] opened by @alertmanager" in text for text in posts(h, "#incidents"))

    # Alertmanager sends the unchanged group again after repeat_interval: a duplicate.
    await until("repeated notification", lambda: deliveries(h, "duplicate"), am)
    assert len(incidents(h)) == 1
    assert timeline(h, incident) == opened
    assert deliveries(h, "ok") == 1
    assert count(h, SeenEvent) == 1

    await am.resolve(pushed)
    # The resolution commits on the database thread; the delivery is counted once its
    # dispatch is back on the loop, a moment later: wait for both.
    await until(
        "resolution",
        lambda: incidents(h)[0].state == "resolved" and deliveries(h, "ok") == 2,
        am,
    )
    assert [r.id for r in incidents(h)] == [incident]
    events = timeline(h, incident)
    assert [kind for _, kind, _ in events].count("resolve") == 1
    assert events[-1][:2] == ("alertmanager", "resolve")
    assert events[: len(opened)] == opened
    assert deliveries(h, "ok") == 2
    await h.app.settle()
    assert any("resolved" in text for text in posts(h, "#incidents"))

    # Every send Alertmanager made was answered 200 and counted by Shipwatch.
    handled = deliveries(h, "ok") + deliveries(h, "duplicate")
    assert await sends_settled(am, lambda counts: counts == (handled, 0)) == (handled, 0)
