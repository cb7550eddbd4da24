"""Maintenance windows as stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import MaintenanceWindow


def add(session: Session, row: MaintenanceWindow) -> MaintenanceWindow:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, window_id: int, for_update: bool = False) -> MaintenanceWindow | None:
    query = select(MaintenanceWindow).where(MaintenanceWindow.id == window_id)
    return session.exec(query.with_for_update() if for_update else query).first()


# Read for every alert: built once, since building and keying a new statement costs
# several times what running it does.
_IN_FORCE = (
    select(MaintenanceWindow)
    .where(
        MaintenanceWindow.service == bindparam("service"),
        col(MaintenanceWindow.starts_at) <= bindparam("now"),
        col(MaintenanceWindow.ends_at) > bindparam("now"),
    )
    .order_by(col(MaintenanceWindow.ends_at).desc(), col(MaintenanceWindow.id))
    .limit(1)
)
_IN_FORCE_LOCKED = _IN_FORCE.with_for_update()


def in_force(
    session: Session, *, service: str, now: datetime, for_update: bool = False
) -> MaintenanceWindow | None:
    """The window of ``service`` in force at ``now`` that ends last, if any."""
    query = _IN_FORCE_LOCKED if for_update else _IN_FORCE
    return session.exec(query, params={"service": service, "now": now}).first()


def freezing(session: Session, *, service: str, now: datetime) -> Sequence[MaintenanceWindow]:
    """Windows of ``service`` in force at ``now`` that hold its releases."""
    query = select(MaintenanceWindow).where(
        MaintenanceWindow.service == service,
        col(MaintenanceWindow.freeze).is_(True),
        col(MaintenanceWindow.starts_at) <= now,
        col(MaintenanceWindow.ends_at) > now,
    )
    return session.exec(query.order_by(col(MaintenanceWindow.id))).all()


def current(session: Session, *, now: datetime, limit: int = 50) -> Sequence[MaintenanceWindow]:
    """Windows in force or still to come, soonest first."""
    query = (
        select(MaintenanceWindow)
        .where(col(MaintenanceWindow.ends_at) > now)
        .order_by(col(MaintenanceWindow.starts_at), col(MaintenanceWindow.id))
        .limit(limit)
    )
    return session.exec(query).all()
