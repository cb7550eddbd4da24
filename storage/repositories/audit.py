"""The audit log: append and read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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
