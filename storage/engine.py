"""Engines for SQLite (the embedded default) and PostgreSQL, from one URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

# WAL with synchronous=NORMAL, chosen over FULL. A killed process loses no commit either
# way (the WAL is in the OS's hands at commit; `make chaos` kills -9 to check); NORMAL can
# lose the last commits to a power cut or an OS crash, FULL cannot. FULL syncs the WAL at
# every commit: on the development machine that doubled a command's round trip (p50 5 to
# 10 ms), cut commits from ~750/s to ~150/s, and left due timers firing at 97/s against
# 200/s due (bench/durability.py, bench/timers.py). Where a power cut must lose nothing,
# use PostgreSQL, whose commits are synchronous by default.
SQLITE_SYNCHRONOUS = "NORMAL"


def normalise_url(url: str) -> str:
    """Accept the URLs people paste: ``postgres://`` and ``postgresql://`` use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def redact_url(url: str) -> str:
    """The URL with any password hidden, for logs and error messages."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 10}}
        if database in ("", ":memory:"):
            options["poolclass"] = NullPool
        engine = create_engine(url, echo=echo, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # A command reads then writes; taking the write lock up front means two
    # processes never both read a pending timer and both fire it.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
