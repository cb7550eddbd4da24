"""One transaction per command: a session that commits everything or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CursorResult, Engine, Executable
from sqlmodel import Session


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """Yield a session; commit when the block ends normally, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def execute_unflushed(
    session: Session, statement: Executable, params: Any = None
) -> CursorResult[Any]:
    """Execute a Core statement that writes (or reads) rows no pending ORM object touches
    (an outbox message, a timer, a button token) in ``session``'s transaction, without
    flushing the session first: ``Session.execute`` flushes before every statement, so a
    command writing ten such rows would flush ten times instead of once at commit."""
    return session.connection().execute(statement, params)
