"""Durable timers: arm, cancel, claim exactly once."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage import upsert
from storage.models import Timer
from storage.unit_of_work import execute_unflushed


def arm(
    session: Session,
    *,
    key: str,
    kind: str,
    due_at: datetime,
    payload: Mapping[str, Any],
    now: datetime,
) -> None:
    """Arm ``key`` for ``due_at``; an existing timer of that key is moved, not duplicated.

    One INSERT … ON CONFLICT, without reading the row first: it neither asks the database
    whether the key exists nor flushes the transaction's other pending rows to ask.
    """
    timer = _loaded(session, key)
    if timer is not None:  # this transaction holds the row already: keep that copy true
        timer.kind, timer.due_at, timer.payload = kind, due_at, dict(payload)
        timer.state, timer.fired_at, timer.fired_late = "pending", None, False
        session.add(timer)
        return
    execute_unflushed(
        session,
        _arming(session.get_bind().dialect.name),
        {
            "key": key,
            "kind": kind,
            "due_at": due_at,
            "payload": dict(payload),
            "state": "pending",
            "fired_at": None,
            "fired_late": False,
            "created_at": now,
        },
    )


@functools.cache
def _arming(dialect: str) -> Any:
    """INSERT a timer, or move the one of its key (SQLite and PostgreSQL both know
    ON CONFLICT); built once, since building it costs more than running it."""
    table = Timer.__table__  # type: ignore[attr-defined]
    statement = upsert.insert(dialect, table)
    moved = ("kind", "due_at", "payload", "state", "fired_at", "fired_late")
    return statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={name: statement.excluded[name] for name in moved},
    )


def cancel(session: Session, *, key: str) -> bool:
    """Cancel ``key`` if it is pending; whether it was. One UPDATE that flushes nothing,
    unless this transaction holds the row already: then that copy is changed, so that
    it stays true (and a later arm of the key in the same transaction is written)."""
    timer = _loaded(session, key)
    if timer is not None:
        if timer.state != "pending":
            return False
        timer.state = "cancelled"
        session.add(timer)
        return True
    table = Timer.__table__  # type: ignore[attr-defined]
    result = execute_unflushed(
        session,
        update(table)
        .where(table.c.key == key, table.c.state == "pending")
        .values(state="cancelled"),
    )
    return bool(result.rowcount)


def _loaded(session: Session, key: str) -> Timer | None:
    """The timer of ``key`` if this transaction has loaded it already (a handler re-arming
    the very timer that is firing, say): no need to ask the database again."""
    for obj in session.identity_map.values():
        if isinstance(obj, Timer) and obj.key == key:
            return obj
    return None


def claim(
    session: Session, *, key: str, now: datetime, late_after: timedelta | None = None
) -> Timer | None:
    """Mark a pending, due timer fired and return it; None if another worker got there
    first. Fired more than ``late_after`` after it was due, it is marked late.

    One UPDATE … RETURNING; the timer comes back as a row of its own, not one this
    session tracks: its handler only reads it."""
    late = col(Timer.due_at) < now - late_after if late_after is not None else False
    table = Timer.__table__  # type: ignore[attr-defined]
    fired = execute_unflushed(
        session,
        update(table)
        .where(table.c.key == key, table.c.state == "pending", table.c.due_at <= now)
        .values(state="fired", fired_at=now, fired_late=late)
        .returning(*table.c),
    ).first()
    return Timer(**fired._mapping) if fired is not None else None


def pending(session: Session, *, due_before: datetime | None = None) -> Sequence[Timer]:
    query = select(Timer).where(Timer.state == "pending")
    if due_before is not None:
        query = query.where(col(Timer.due_at) <= due_before)
    return session.exec(query.order_by(col(Timer.due_at), col(Timer.id))).all()


def pending_due_times(session: Session) -> list[tuple[str, datetime]]:
    """Key and due time of every pending timer: just what arming needs, nothing more."""
    rows = session.exec(select(Timer.key, Timer.due_at).where(Timer.state == "pending")).all()
    return [(key, due_at) for key, due_at in rows]


def next_due(session: Session) -> datetime | None:
    return session.exec(select(func.min(Timer.due_at)).where(Timer.state == "pending")).one()


def count_pending(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Timer).where(Timer.state == "pending")
    ).one()


def get(session: Session, *, key: str, for_update: bool = False) -> Timer | None:
    """The row of ``key``; ``for_update`` locks it until commit (PostgreSQL), so a firing
    that claims it and a change of its payload come one after the other."""
    query = select(Timer).where(Timer.key == key)
    return session.exec(query.with_for_update() if for_update else query).first()


def mark_failed(session: Session, *, key: str, now: datetime) -> None:
    """A timer whose handler crashed is set aside rather than retried forever."""
    session.execute(
        update(Timer)
        .where(col(Timer.key) == key, col(Timer.state) == "pending")
        .values(state="failed", fired_at=now)
    )
