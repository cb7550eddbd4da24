"""Two ``shipwatch run`` replicas on one PostgreSQL database: one-owner duties held by lease
(guard readings, Telegram polling) move to the survivor of a kill -9, and what one replica
commits (a timer, an outbox row) the other acts on at once."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import select

from bot.app import Application
from bot.clock import WallClock
from bot.config.directory import load
from bot.duties import RENEW
from bot.settings import Settings
from commands.core.invocations import CommandInvocation
from playbooks.effects import Conversation
from storage.engine import make_engine
from storage.models import Timer
from storage.repositories import duties as leases
from storage.unit_of_work import unit_of_work
from tests.bot.adapters.test_telegram import ALICE, INCIDENTS, OPS, telegram_config
from tests.bot.test_run import Served
from tests.fakes.adapters import RecordingAdapter
from tests.fakes.prometheus_api import CountingPrometheus
from tests.fakes.telegram_api import TOKEN, FakeTelegram, message_update

pytestmark = pytest.mark.postgres
T = TypeVar("T")
TAKEOVER_WITHIN = 10.0  # seconds from kill -9 until the survivor holds every duty
ON_TIME = 1.0  # seconds after its due time a timer must have fired (and been delivered)
# A message another replica committed is seen within a second; its delivery also passes
# the chat's own send pacing (Telegram: about one a second per chat), hence the margin.
# Without the notice it would wait for the 5 s idle poll.
DELIVERED_IN_TIME = 1.5
POLL = 0.05
ALL_DUTIES = ["guard-ticks", "telegram-polling"]
PLAN = """\
name: fast
stages:
  - {name: canary, percent: 10%, soak: 1h}
  - {name: full, percent: 100%}
guards:
  - name: errors
    query: 'sum(rate(http_requests_total{service="{service}",code="500"}[1m]))'
    max: 5%
    for: 3s
    interval: 1s
    max_unknown: 1m
    action: rollback
"""


def shop(prometheus_url: str) -> str:
    return f"""\
  shop:
    plan: fast
    team: web
    release_channel: "telegram:{OPS}"
    incident_channel: "telegram:{INCIDENTS}"
    traffic: {{backend: simulated}}
    metrics: {{source: prometheus, url: "{prometheus_url}", timeout: 2s}}
"""


class Fakes:
    """The fake Bot API and one counting Prometheus per replica, on a loop in a thread (the
    replicas are processes). Each replica's config reads its own Prometheus, so a query
    tells which replica made it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.telegram: FakeTelegram = self.call(FakeTelegram.start())
        self.prometheus = {
            "a": self.call(CountingPrometheus.start()),
            "b": self.call(CountingPrometheus.start()),
        }

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=20)

    def say(self, text: str) -> None:
        self.call(self.telegram.push(message_update(text, user_id=ALICE, chat_id=OPS)))

    def sent_text(self) -> list[tuple[float, str]]:
        return [(c.at, str(c.params.get("text", ""))) for c in self.telegram.sent()]

    def close(self) -> None:
        for prometheus in self.prometheus.values():
            self.call(prometheus.stop())
        self.call(self.telegram.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    running = Fakes()
    yield running
    running.close()


def config_dir(directory: Path, prometheus: CountingPrometheus) -> Path:
    telegram_config(directory)
    (directory / "plans").mkdir()
    (directory / "plans" / "fast.yaml").write_text(PLAN, encoding="utf-8")
    services = directory / "services.yaml"
    services.write_text(services.read_text() + shop(prometheus.url), encoding="utf-8")
    return directory


def replica(name: str, tmp_path: Path, postgres_url: str, fakes: Fakes) -> Served:
    return Served(
        {
            "SHIPWATCH_DATABASE_URL": postgres_url,
            "SHIPWATCH_CONFIG_DIR": str(config_dir(tmp_path / name, fakes.prometheus[name])),
            "SHIPWATCH_TELEGRAM_TOKEN": TOKEN,
            "SHIPWATCH_TELEGRAM_API_URL": fakes.telegram.api_url,
            "SHIPWATCH_LOG_LEVEL": "INFO",
        }
    )


def kill(served: Served) -> float:
    """kill -9, as a crash would; when it was sent."""
    killed = time.monotonic()
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGKILL)
    served.process.wait(timeout=10)
    for pipe in (served.process.stdout, served.process.stderr):
        if pipe is not None:
            pipe.close()
    return killed


def readyz(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def until(what: str, done: Callable[[], bool], *, within: float) -> float:
    """Seconds until ``done()`` (watching other processes), failing after ``within``."""
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within:g} s: {what}")
        time.sleep(POLL)
    return time.monotonic() - started


def test_duties_have_one_holder_and_move_to_the_survivor_of_a_kill(
    postgres_url: str, fakes: Fakes, tmp_path: Path
) -> None:
    a = replica("a", tmp_path, postgres_url, fakes)
    port_a = a.ready()
    b = replica("b", tmp_path, postgres_url, fakes)
    try:
        port_b = b.ready()
        ready_a, ready_b = readyz(port_a), readyz(port_b)
        assert ready_a["instance"] != ready_b["instance"]
        assert ready_a["duties"] == ALL_DUTIES, "the first replica up takes every duty"
        assert ready_b["duties"] == []

        # (a) A release goes live: only the holder of the guard duty reads its guards.
        fakes.say("/release start shop 1.0.0")
        until("A reads the guards", lambda: fakes.prometheus["a"].count() >= 5, within=20)
        read_by_a = fakes.prometheus["a"].count()
        assert fakes.prometheus["b"].count() == 0, "B never read a guard while A held them"
        reading_for = time.monotonic() - fakes.prometheus["a"].queried_at[0]
        assert read_by_a <= 2 + reading_for, "one reader, once a second"
        # (e) Asked any number of times, the two replicas never name the same duty.
        for _ in range(5):
            assert not set(readyz(port_a)["duties"]) & set(readyz(port_b)["duties"])

        # (c) A timer armed through A (the poller takes the command)...
        fakes.say("/remind 6s failover check")
        until("the reminder is set", lambda: _said(fakes, "Reminder #1 set"), within=10)
        due_at = _due_at(postgres_url, kind="reminder.due")
        # (b) ... then A is killed: B holds every duty within 10 s.
        killed = kill(a)
        took = until(
            "B holds every duty",
            lambda: readyz(port_b)["duties"] == ALL_DUTIES,
            within=TAKEOVER_WITHIN,
        )
        assert took <= TAKEOVER_WITHIN
        since = time.monotonic()
        until("B reads the guards", lambda: fakes.prometheus["b"].count(since) >= 2, within=5)
        assert fakes.prometheus["a"].count(killed + 0.5) == 0, "A is dead"

        # (c) ... and B fires it on time, with A dead.
        until(
            "B posts the reminder",
            lambda: any("Reminder from" in text for _, text in fakes.sent_text()),
            within=15,
        )
        posted_at = next(at for at, text in fakes.sent_text() if "Reminder from" in text)
        late = posted_at - _monotonic_of(due_at)
        assert late <= ON_TIME, f"the reminder went out {late:.2f} s after its due time"

        # B now polls Telegram too: a command typed after the kill is answered.
        fakes.say("/whoami")
        until("B answers /whoami", lambda: _said(fakes, "telegram:1001"), within=10)
    finally:
        kill(a)
        b.stop()
    assert b.process.returncode == 0
    engine = make_engine(postgres_url)
    with unit_of_work(engine) as session:
        given_back = {lease.name: lease.expires_at for lease in leases.leases(session)}
    engine.dispose()
    assert sorted(given_back) == ALL_DUTIES
    assert all(at < datetime.now(UTC) for at in given_back.values()), "a clean stop gives back"


def test_a_clean_stop_hands_duties_over_at_once(
    postgres_url: str, fakes: Fakes, tmp_path: Path
) -> None:
    a = replica("a", tmp_path, postgres_url, fakes)
    a.ready()
    b = replica("b", tmp_path, postgres_url, fakes)
    try:
        port_b = b.ready()
        assert readyz(port_b)["duties"] == []
        a.stop()
        assert a.process.returncode == 0
        # Given back on stop, not left to lapse: B takes them at its next renewal.
        took = until("B holds every duty", lambda: readyz(port_b)["duties"] == ALL_DUTIES, within=5)
        assert took <= RENEW.total_seconds() + 1.0
    finally:
        b.stop()


def test_an_outbox_row_written_by_one_replica_is_sent_by_another_at_once(
    postgres_url: str, fakes: Fakes, tmp_path: Path
) -> None:
    """Replica A commits incidents but its delivery worker is busy (here: not running);
    replica B, a real process, delivers each within a second, well before its 5 s idle
    poll would have found them."""
    b = replica("b", tmp_path, postgres_url, fakes)
    try:
        b.ready()
        engine = make_engine(postgres_url)
        a = Application(
            settings=Settings(database_url=postgres_url),
            config=load(config_dir(tmp_path / "a", fakes.prometheus["a"])),
            engine=engine,
            clock=WallClock(),
            adapters={"telegram": RecordingAdapter(platform="telegram")},
        )
        try:
            for n in range(3):
                title = f"Checkout errors {n}"
                command = f"/incident open {title} --service shop --sev P2"
                invocation = CommandInvocation(
                    "telegram", str(ALICE), Conversation("telegram", str(OPS)), command, None
                )
                outcome = asyncio.run(a.dispatch(invocation))
                committed = time.monotonic()
                assert outcome.status == "ok", outcome
                assert outcome.enqueued
                took = until(f"B posts {title!r}", lambda t=title: _said(fakes, t), within=10)
                assert took <= DELIVERED_IN_TIME, f"delivered {took:.2f} s after the commit"
                assert time.monotonic() - committed < 5.0
        finally:
            asyncio.run(a.http.close())
            engine.dispose()
    finally:
        b.stop()


def _said(fakes: Fakes, fragment: str) -> bool:
    return any(fragment in text for _, text in fakes.sent_text())


def _due_at(postgres_url: str, *, kind: str) -> datetime:
    engine = make_engine(postgres_url)
    with unit_of_work(engine) as session:
        timer = session.exec(select(Timer).where(Timer.kind == kind)).one()
    engine.dispose()
    return timer.due_at


def _monotonic_of(moment: datetime) -> float:
    """A wall-clock moment on this process's monotonic clock, to compare with the fakes'."""
    return time.monotonic() + (moment - datetime.now(UTC)).total_seconds()
