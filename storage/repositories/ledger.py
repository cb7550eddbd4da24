"""The idempotency ledger: has this inbound event been handled already?"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import SeenEvent


def seen(session: Session, *, source: str, event_id: str) -> bool:
    query = select(SeenEvent.id).where(SeenEvent.source == source, SeenEvent.event_id == event_id)
    return session.exec(query).first() is not None


def remember(session: Session, *, source: str, event_id: str, now: datetime) -> None:
    """Record the event in the command's own transaction; a racing twin fails on commit."""
    session.add(SeenEvent(source=source, event_id=event_id, seen_at=now))
