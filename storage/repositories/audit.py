"""The audit log: append and read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import AuditEntry

MAX_TEXT = 4000


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    platform: str,
    conversation: str,
    command: str,
    text: str,
    outcome: str,
    detail: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor=actor,
        platform=platform,
        conversation=conversation,
        command=command,
        text=text[:MAX_TEXT],
        outcome=outcome,
        detail=detail[:MAX_TEXT],
    )
    session.add(entry)
    return entry


def latest(session: Session, *, limit: int) -> Sequence[AuditEntry]:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()


def search(
    session: Session,
    *,
    actor: str | None = None,
    platform: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[AuditEntry], int]:
    """One page of entries, newest first, of one person or one platform (or all), and how
    many match in all."""
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    for column, value in ((AuditEntry.actor, actor), (AuditEntry.platform, platform)):
        if value is not None:
            query = query.where(column == value)
            count = count.where(column == value)
    rows = session.exec(query.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit))
    return rows.all(), int(session.exec(count).one())


def actors_and_platforms(session: Session) -> tuple[list[str], list[str]]:
    """Everyone and every platform the log names, for the filters."""
    actors = session.exec(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)).all()
    platforms = session.exec(
        select(AuditEntry.platform).distinct().order_by(AuditEntry.platform)
    ).all()
    return list(actors), list(platforms)
