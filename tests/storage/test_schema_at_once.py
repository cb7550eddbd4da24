"""Replicas starting at the same moment on one new database, or on one that needs a
migration: every one starts, and the schema is made or migrated once (PostgreSQL holds
the schema to one transaction at a time; SQLite's write lock does the same)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from storage import migrate
from storage.engine import make_engine

STARTS = 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/new.db"
    return str(request.getfixturevalue("postgres_url"))


def start(url: str, ready: Any, failures: Any) -> None:
    """One replica's start (in a process of its own, as replicas are): prepare the
    database as ``shipwatch run`` does, together with the others."""
    engine = make_engine(url)
    try:
        ready.wait(timeout=60)
        migrate.prepare(engine)
    except Exception as error:
        failures.put(f"{type(error).__name__}: {error}"[:500])
    finally:
        engine.dispose()


def start_together(url: str) -> list[str]:
    context = multiprocessing.get_context("spawn")
    ready, failures = context.Barrier(STARTS), context.Queue()
    starts = [context.Process(target=start, args=(url, ready, failures)) for _ in range(STARTS)]
    for process in starts:
        process.start()
    for process in starts:
        process.join(timeout=120)
    assert [process.exitcode for process in starts] == [0] * STARTS
    return [failures.get() for _ in range(failures.qsize())]


def test_replicas_starting_together_on_a_new_database_all_start(url: str) -> None:
    assert start_together(url) == []
    engine = make_engine(url)
    try:
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_replicas_starting_together_on_an_old_database_all_start(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, revision="0025")
        assert start_together(url) == []
        assert migrate.is_current(engine)
    finally:
        engine.dispose()
