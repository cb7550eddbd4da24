"""The idempotency ledger: has this inbound event been handled already?"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from storage import upsert
from storage.models import SeenEvent
from storage.unit_of_work import execute_unflushed


def seen(session: Session, *, source: str, event_id: str) -> bool:
    query = select(SeenEvent.id).where(SeenEvent.source == source, SeenEvent.event_id == event_id)
    return session.exec(query).first() is not None


def remember(session: Session, *, source: str, event_id: str, now: datetime) -> None:
    """Record the event in the command's own transaction, at once: a twin of it recorded
    first fails here (IntegrityError), or, still uncommitted elsewhere, on commit."""
    execute_unflushed(
        session,
        insert(SeenEvent.__table__),  # type: ignore[attr-defined]
        {"source": source, "event_id": event_id, "seen_at": now},
    )


def first_time(session: Session, *, source: str, event_id: str, now: datetime) -> bool:
    """Record the event in the caller's transaction unless the ledger has it: whether it
    is new. One INSERT … ON CONFLICT DO NOTHING, asking and recording at once; on
    PostgreSQL a twin recorded by a transaction not yet committed makes it wait for that
    one's end, then answer by its outcome."""
    added = execute_unflushed(
        session,
        _recording(session.get_bind().dialect.name),
        {"source": source, "event_id": event_id, "seen_at": now},
    )
    return added.first() is not None


@functools.cache
def _recording(dialect: str) -> Any:
    table = SeenEvent.__table__  # type: ignore[attr-defined]
    return (
        upsert.insert(dialect, table)
        .on_conflict_do_nothing(index_elements=[table.c.source, table.c.event_id])
        .returning(table.c.id)
    )
