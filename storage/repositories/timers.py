"""Durable timers: arm, cancel, claim exactly once."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, or_, select

from storage import upsert
from storage.models import Timer
from storage.unit_of_work import execute_unflushed


@dataclass(frozen=True, slots=True)
class Arming:
    """A timer to arm: its key, kind, when it is due and what its handler is given."""

    key: str
    kind: str
    due_at: datetime
    payload: Mapping[str, Any]


# The statements of every timer's arm, cancel and claim are built once: building and
# keying a new one costs several times what running it does.
_TABLE = Timer.__table__  # type: ignore[attr-defined]
_CANCELLING = (
    update(_TABLE)
    .where(_TABLE.c.key == bindparam("timer_key"), _TABLE.c.state == "pending")
    .values(state="cancelled")
)
_CLAIMABLE = update(_TABLE).where(
    _TABLE.c.key == bindparam("timer_key"),
    _TABLE.c.state == "pending",
    _TABLE.c.due_at <= bindparam("now"),
)
_CLAIMING = _CLAIMABLE.values(state="fired", fired_at=bindparam("now"), fired_late=False).returning(
    *_TABLE.c
)
_CLAIMING_LATE = _CLAIMABLE.values(
    state="fired", fired_at=bindparam("now"), fired_late=_TABLE.c.due_at < bindparam("late_before")
).returning(*_TABLE.c)


def arm(
    session: Session,
    *,
    key: str,
    kind: str,
    due_at: datetime,
    payload: Mapping[str, Any],
    now: datetime,
) -> None:
    """Arm ``key`` for ``due_at``; an existing timer of that key is moved, not duplicated."""
    arm_many(session, [Arming(key, kind, due_at, payload)], now=now)


def arm_many(session: Session, timers: Sequence[Arming], *, now: datetime) -> None:
    """Arm each of ``timers`` (a key given twice: the last one counts); one of an existing
    key is moved, not duplicated.

    One INSERT … ON CONFLICT for them all, without reading the rows first: it neither asks
    the database whether the keys exist nor flushes the transaction's other pending rows
    to ask.
    """
    rows = []
    for timer in {t.key: t for t in timers}.values():
        loaded = _loaded(session, timer.key)
        if loaded is not None:  # this transaction holds the row already: keep that copy true
            loaded.kind, loaded.due_at, loaded.payload = (
                timer.kind,
                timer.due_at,
                dict(timer.payload),
            )
            loaded.state, loaded.fired_at, loaded.fired_late = "pending", None, False
            session.add(loaded)
            continue
        rows.append(
            {
                "key": timer.key,
                "kind": timer.kind,
                "due_at": timer.due_at,
                "payload": dict(timer.payload),
                "state": "pending",
                "fired_at": None,
                "fired_late": False,
                "created_at": now,
            }
        )
    if rows:
        execute_unflushed(session, _arming(session.get_bind().dialect.name), rows)


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
    return bool(execute_unflushed(session, _CANCELLING, {"timer_key": key}).rowcount)


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
    params = {"timer_key": key, "now": now}
    if late_after is None:
        fired = execute_unflushed(session, _CLAIMING, params).first()
    else:
        params["late_before"] = now - late_after
        fired = execute_unflushed(session, _CLAIMING_LATE, params).first()
    return Timer(**fired._mapping) if fired is not None else None


def claim_among(
    session: Session, *, keys: Sequence[str], due_by: datetime, now: datetime
) -> list[Timer]:
    """Mark fired, and return, those of ``keys`` still pending and due by ``due_by`` (some
    perhaps not yet due: fired early with another). A timer another transaction holds
    (a replica firing it, a command moving it) is skipped, not waited for: a handler
    holding its own timer and asking for others' never waits in a circle."""
    if not keys:
        return []
    picked = (
        select(_TABLE.c.key)
        .where(_TABLE.c.key.in_(keys), _TABLE.c.state == "pending", _TABLE.c.due_at <= due_by)
        .with_for_update(skip_locked=True)
    )
    fired = execute_unflushed(
        session,
        update(_TABLE)
        .where(_TABLE.c.key.in_(picked.scalar_subquery()), _TABLE.c.state == "pending")
        .values(state="fired", fired_at=now, fired_late=False)
        .returning(*_TABLE.c),
    )
    return sorted((Timer(**row._mapping) for row in fired), key=lambda timer: timer.due_at)


def pending(session: Session, *, due_before: datetime | None = None) -> Sequence[Timer]:
    query = select(Timer).where(Timer.state == "pending")
    if due_before is not None:
        query = query.where(col(Timer.due_at) <= due_before)
    return session.exec(query.order_by(col(Timer.due_at), col(Timer.id))).all()


def pending_due_times(
    session: Session, *, after: tuple[datetime, int] | None = None, limit: int | None = None
) -> list[tuple[str, datetime, int]]:
    """Key, due time and id of pending timers in due order: just what arming needs, nothing
    more. At most ``limit`` of them, those after ``after`` (a due time and id the previous
    read ended on), so a sweep can read tens of thousands a few at a time."""
    query = select(Timer.key, Timer.due_at, Timer.id).where(Timer.state == "pending")
    if after is not None:
        due_at, timer_id = after
        query = query.where(
            col(Timer.due_at) >= due_at,  # the range the (state, due_at) index reads
            or_(col(Timer.due_at) > due_at, col(Timer.id) > timer_id),
        )
    query = query.order_by(col(Timer.due_at), col(Timer.id))
    if limit is not None:
        query = query.limit(limit)
    return [(key, due_at, timer_id or 0) for key, due_at, timer_id in session.exec(query).all()]


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
