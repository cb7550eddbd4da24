"""Reminders as stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Reminder


def add(
    session: Session,
    *,
    platform: str,
    channel: str,
    author: str,
    text: str,
    due_at: datetime,
    now: datetime,
) -> Reminder:
    reminder = Reminder(
        platform=platform, channel=channel, author=author, text=text, due_at=due_at, created_at=now
    )
    session.add(reminder)
    session.flush()
    return reminder


def get(session: Session, *, reminder_id: int) -> Reminder | None:
    return session.get(Reminder, reminder_id)


def pending_in(session: Session, *, platform: str, channel: str, limit: int) -> Sequence[Reminder]:
    """The soonest ``limit`` pending reminders of one conversation."""
    return session.exec(
        select(Reminder)
        .where(
            Reminder.platform == platform,
            Reminder.channel == channel,
            Reminder.state == "pending",
        )
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
    ).all()


def count_pending_in(session: Session, *, platform: str, channel: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(Reminder)
        .where(
            Reminder.platform == platform,
            Reminder.channel == channel,
            Reminder.state == "pending",
        )
    ).one()
