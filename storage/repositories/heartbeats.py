"""Heartbeats as stored: the last beat of each, and whether it is missing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import HeartbeatRow


def get(session: Session, *, name: str, for_update: bool = False) -> HeartbeatRow | None:
    """The row of ``name``; ``for_update`` holds it until commit, so two beats (or a beat
    and the check of a missed one) come one after the other."""
    query = select(HeartbeatRow).where(HeartbeatRow.name == name)
    return session.exec(query.with_for_update() if for_update else query).first()


def add(session: Session, row: HeartbeatRow) -> HeartbeatRow:
    """A first beat. Two first beats at once: the database keeps one, the other's
    transaction fails on the primary key and is run again, finding this row."""
    session.add(row)
    session.flush()
    return row


def every(session: Session) -> Sequence[HeartbeatRow]:
    return session.exec(select(HeartbeatRow).order_by(col(HeartbeatRow.name))).all()
