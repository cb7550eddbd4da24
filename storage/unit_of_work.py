"""One transaction per command: a session that commits everything or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
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
