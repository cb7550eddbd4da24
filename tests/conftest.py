"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL where marked), apps on a
virtual clock, and a guard that fails any test reaching beyond this machine."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench.common import new_postgres_database as postgres_database
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.settings import Settings
from commands.core.invocations import ButtonPress, CommandInvocation, Outcome
from playbooks.effects import Conversation
from storage import migrate
from storage.engine import make_engine, normalise_url
from tests.fakes.adapters import RecordingAdapter
from tests.fakes.prometheus_server import Exporter, PrometheusServer, prometheus_binary

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai


# --- no test reaches the real network -------------------------------------------------------

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("127."):
            raise AssertionError(f"a test tried to reach {host}: tests stay on this machine")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come from the test, never from the developer's shell or .env."""
    for name in list(os.environ):
        if name.startswith("SHIPWATCH_") and name != "SHIPWATCH_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# --- databases ------------------------------------------------------------------------------


def postgres_admin_url() -> str:
    return normalise_url(os.environ.get("SHIPWATCH_TEST_POSTGRES_URL", DEFAULT_POSTGRES))


def _postgres_or_skip() -> str:
    url = postgres_admin_url()
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        message = f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    with new_postgres_database() as url:
        yield url


@pytest.fixture
def second_postgres_url() -> Iterator[str]:
    """Another brand-new PostgreSQL database, for a test comparing two."""
    with new_postgres_database() as url:
        yield url


@contextlib.contextmanager
def new_postgres_database() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped on leaving (skips the test without one)."""
    with postgres_database(_postgres_or_skip(), prefix="shipwatch_test") as url:
        yield url


# The migrations run once per test process, into a template each test's database is
# copied from: a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL. Migrating
# every test's database from nothing cost more than most tests themselves. Tests of the
# migrations (tests/storage/test_migrations.py, `shipwatch db upgrade`) still start from
# an empty database: ``postgres_url`` and ``sqlite_url`` stay empty.


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "shipwatch.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()  # the last connection's close folds the WAL back into the file
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    with postgres_database(_postgres_or_skip(), prefix="shipwatch_template") as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()  # a template may have no connections while it is copied
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture
def migrated_postgres_url(_postgres_template: str) -> Iterator[str]:
    """A PostgreSQL database for one test, at the head migration, dropped afterwards."""
    with postgres_database(
        postgres_admin_url(), prefix="shipwatch_test", template=_postgres_template
    ) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL, on a database at the
    head migration."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        shutil.copyfile(template, tmp_path / "shipwatch.db")
        return f"sqlite:///{tmp_path}/shipwatch.db"
    return str(request.getfixturevalue("migrated_postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/shipwatch.db"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


# --- applications on a virtual clock -------------------------------------------------------


class Harness:
    """An Application on a virtual clock, with helpers to talk to it as people do."""

    def __init__(self, app: Application, adapter: RecordingAdapter, clock: VirtualClock) -> None:
        self.app = app
        self.adapter = adapter
        self.clock = clock
        self._events = 0
        # Run, newest first, before the application stops (a test client to close).
        self.closers: list[Callable[[], Awaitable[None]]] = []

    async def say(
        self, text: str, *, user: str = "alice", channel: str = "#ops", event_id: str | None = None
    ) -> Outcome:
        outcome = await self.app.dispatch(
            CommandInvocation("console", user, Conversation("console", channel), text, event_id)
        )
        await self.app.settle()
        return outcome

    async def press(self, action_id: str, *, user: str = "alice") -> Outcome:
        outcome = await self.app.dispatch(
            ButtonPress("console", user, Conversation("console", "#ops"), action_id)
        )
        await self.app.settle()
        return outcome

    def reply_text(self, outcome: Outcome) -> str:
        assert outcome.reply is not None
        from bot.render import plain_lines

        return "\n".join(
            plain_lines(outcome.reply, self.app.translator(outcome.locale, outcome.tz))
        )

    async def advance(self, **delta: float) -> None:
        from datetime import timedelta

        await self.app.advance_to(self.clock.now() + timedelta(**delta))


HarnessFactory = Callable[..., Any]


@pytest.fixture
async def make_harness(database_url: str) -> AsyncIterator[HarnessFactory]:
    built: list[Harness] = []

    async def build(
        *,
        adapter: RecordingAdapter | None = None,
        start: datetime = START,
        config_dir: Path | None = None,
        more_adapters: Sequence[RecordingAdapter] = (),
        drill: bool | None = None,
        **settings: Any,
    ) -> Harness:
        engine = make_engine(database_url)
        migrate.upgrade(engine)
        adapter = adapter or RecordingAdapter()
        clock = VirtualClock(start)
        app = Application(
            settings=Settings(database_url=database_url, **settings),
            config=load(config_dir),
            engine=engine,
            clock=clock,
            adapters={a.platform: a for a in (adapter, *more_adapters)},
            seed=0,
            drill=drill,
        )
        await app.start()
        harness = Harness(app, adapter, clock)
        built.append(harness)
        return harness

    yield build
    for harness in built:
        for close in reversed(harness.closers):
            await close()
        await harness.app.stop()
        harness.app.engine.dispose()


# --- a real Prometheus server (Debian's `prometheus` package) -------------------------------


def _prometheus_or_skip() -> str:
    binary = prometheus_binary()
    if binary is None:
        message = "prometheus is not installed; apt-get install prometheus"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def prometheus_exporter() -> Iterator[Exporter]:
    """Counters on 127.0.0.1 that ``prometheus`` scrapes every second; shared by the run."""
    exporter = Exporter.start()
    yield exporter
    exporter.stop()


@pytest.fixture(scope="session")
def prometheus(
    prometheus_exporter: Exporter, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    """A real Prometheus on a free loopback port scraping ``prometheus_exporter``; shared
    by the run. Skipped when it is not installed, failed instead under CI=true."""
    binary = _prometheus_or_skip()
    workdir = tmp_path_factory.mktemp("prometheus")
    server = PrometheusServer.start(binary, workdir, prometheus_exporter)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


# --- order ------------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whole stories first (tests/scenarios: the drills, the storms, the week's noise budget,
    the kill -9 run): the longest tests. Split over processes (pytest-xdist), they then run
    beside the many short ones instead of leaving one worker running alone at the end.
    Every test stays independent of the order; this only changes when each starts."""
    items.sort(key=lambda item: 0 if "scenarios" in item.path.parts else 1)
