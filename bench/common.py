"""What the benchmarks share: settings for a throwaway database, an app, percentiles."""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from sqlalchemy import Engine, create_engine, make_url, text

from bot.adapters.console import ConsoleAdapter
from bot.app import Application, open_database
from bot.clock import Clock
from bot.config.directory import load
from bot.settings import Settings


def clean_environ() -> dict[str, str]:
    """This process's environment without any ``SHIPWATCH_*`` setting from the shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SHIPWATCH_")}


def settings(database_url: str) -> Settings:
    """This database and otherwise the shipped defaults.

    ``.env`` is not read, and any ``SHIPWATCH_*`` variable is removed from this (benchmark)
    process's environment so a developer's shell cannot change what is measured.
    """
    for name in [n for n in os.environ if n.startswith("SHIPWATCH_")]:
        del os.environ[name]
    return Settings(_env_file=None, database_url=database_url)


def build_app(
    database_url: str, clock: Clock, out: TextIO
) -> tuple[Application, ConsoleAdapter, Engine]:
    """An Application wired as ``shipwatch console`` wires it, printing into ``out``."""
    config = settings(database_url)
    engine = open_database(config)
    adapter = ConsoleAdapter(out)
    app = Application(
        settings=config,
        config=load(None),
        engine=engine,
        clock=clock,
        adapters={"console": adapter},
    )
    return app, adapter, engine


def not_ok(app: Application) -> int:
    """Invocations that did not end ``ok``, counted by the app's own metrics."""
    return sum(
        int(sample.value)
        for metric in app.metrics.registry.collect()
        if metric.name == "shipwatch_commands"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("outcome") != "ok"
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile ``p`` (0-100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def run_as_script(main: Callable[[], dict[str, object]]) -> None:
    """``python -m bench.NAME`` prints the figures as one JSON line for ``bench.__main__``."""
    print(json.dumps(main()), flush=True)


@contextmanager
def new_postgres_database(
    admin_url: str, *, prefix: str = "shipwatch_bench", template: str | None = None
) -> Iterator[str]:
    """The URL of a new database on the PostgreSQL server of ``admin_url`` (a copy of
    ``template``, if named), dropped (with whatever is still connected to it) on leaving.
    The test suite's databases come from here too."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
