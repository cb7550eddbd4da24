"""Launch records and deploy freezes, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import DeployFreeze, ReleaseLaunch


def get(session: Session, *, release_id: int) -> ReleaseLaunch | None:
    query = select(ReleaseLaunch).where(ReleaseLaunch.release_id == release_id)
    return session.exec(query.with_for_update()).first()


def get_or_add(session: Session, *, release_id: int, now: datetime) -> ReleaseLaunch:
    row = get(session, release_id=release_id)
    if row is None:
        row = ReleaseLaunch(release_id=release_id, state={}, updated_at=now)
        session.add(row)
        session.flush()
    return row


def freezes(session: Session, *, since: str | None = None) -> Sequence[DeployFreeze]:
    query = select(DeployFreeze).order_by(col(DeployFreeze.day), col(DeployFreeze.id))
    if since is not None:
        query = query.where(DeployFreeze.day >= since)
    return session.exec(query).all()


def add_freeze(session: Session, row: DeployFreeze) -> DeployFreeze:
    session.add(row)
    session.flush()
    return row


def freeze(session: Session, *, freeze_id: int) -> DeployFreeze | None:
    return session.exec(select(DeployFreeze).where(DeployFreeze.id == freeze_id)).first()
