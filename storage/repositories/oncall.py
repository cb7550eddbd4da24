"""Rotation versions, overrides and swaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import OncallChange, RotationVersion


def versions(session: Session, *, team: str) -> Sequence[RotationVersion]:
    query = (
        select(RotationVersion)
        .where(RotationVersion.team == team)
        .order_by(col(RotationVersion.since), col(RotationVersion.id))
    )
    return session.exec(query).all()


def add_version(session: Session, version: RotationVersion) -> None:
    session.add(version)


def changes(session: Session, *, team: str, ending_after: datetime) -> Sequence[OncallChange]:
    query = (
        select(OncallChange)
        .where(OncallChange.team == team, col(OncallChange.ends_at) > ending_after)
        .order_by(col(OncallChange.id))
    )
    return session.exec(query).all()


def add_change(session: Session, change: OncallChange) -> OncallChange:
    session.add(change)
    session.flush()
    return change
