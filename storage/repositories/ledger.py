"""The idempotency ledger: has this inbound event been handled already?"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, select

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
