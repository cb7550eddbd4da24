"""Releases and their transition history, as stored.

Reads that precede a change take the row ``FOR UPDATE`` (PostgreSQL locks it; SQLite's
write transaction already holds the database), so two commands racing on one release
see each other's result instead of both moving it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Text, case, cast, func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from storage.models import ReleaseEvent, ReleaseRow

# Every state that holds the service (the unique index's states): prepared ones too.
ACTIVE_STATES = ("prepared", "pending", "in_stage", "paused")
# A release's plan snapshot as stored, undecoded: a listing reads it by its text and
# builds each distinct plan once (``commands.releases.rows.plan_of``), where decoding and
# building every row's copy would be most of its time.
PLAN_TEXT = cast(col(ReleaseRow.plan), Text)


def add(session: Session, row: ReleaseRow) -> ReleaseRow:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, release_id: int, for_update: bool = False) -> ReleaseRow | None:
    query = select(ReleaseRow).where(ReleaseRow.id == release_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def get_with_plan_text(
    session: Session, *, release_id: int, for_update: bool = False
) -> tuple[ReleaseRow, str] | None:
    """``get``, with the plan's stored text (``PLAN_TEXT``) and the row's ``plan`` unread."""
    query = _with_plan_text(col(ReleaseRow.id) == release_id)
    if for_update:
        query = query.with_for_update()
    found = session.exec(query).first()
    return (found[0], found[1]) if found is not None else None


def latest_with_plan_text(session: Session, *, service: str) -> tuple[ReleaseRow, str] | None:
    """``latest_for``, with the plan's stored text (``PLAN_TEXT``) and the row's ``plan``
    unread."""
    query = _with_plan_text(col(ReleaseRow.service) == service)
    found = session.exec(query.order_by(col(ReleaseRow.id).desc()).limit(1)).first()
    return (found[0], found[1]) if found is not None else None


def _with_plan_text(*where: ColumnElement[bool]) -> Select[ReleaseRow, str]:
    """Releases matching ``where``, each with its plan's stored text in place of its plan."""
    return (
        select(ReleaseRow, PLAN_TEXT)
        .options(defer(ReleaseRow.plan))  # type: ignore[arg-type]
        .where(*where)
    )


def active_for(session: Session, *, service: str, for_update: bool = False) -> ReleaseRow | None:
    query = select(ReleaseRow).where(
        ReleaseRow.service == service, col(ReleaseRow.state).in_(ACTIVE_STATES)
    )
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def latest_for(session: Session, *, service: str, for_update: bool = False) -> ReleaseRow | None:
    query = (
        select(ReleaseRow)
        .where(ReleaseRow.service == service)
        .order_by(col(ReleaseRow.id).desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def active(session: Session) -> Sequence[ReleaseRow]:
    query = (
        select(ReleaseRow)
        .where(col(ReleaseRow.state).in_(ACTIVE_STATES))
        .order_by(col(ReleaseRow.service))
    )
    return session.exec(query).all()


def needing_eyes_first(session: Session, *, limit: int) -> tuple[list[tuple[ReleaseRow, str]], int]:
    """At most ``limit`` live releases, those waiting on a person first (paused, then
    traffic asked for and not confirmed, then prepared), then by service, each with its
    plan's stored text (``PLAN_TEXT``; the row's ``plan`` is left unread); and how many
    are live in all."""
    waiting = case({"paused": 0, "pending": 1, "prepared": 2}, value=col(ReleaseRow.state), else_=3)
    live = col(ReleaseRow.state).in_(ACTIVE_STATES)
    rows = session.exec(
        _with_plan_text(live).order_by(waiting, col(ReleaseRow.service)).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(ReleaseRow).where(live)).one()
    return [(row, plan) for row, plan in rows], total


def active_marks(session: Session) -> dict[int, tuple[int, int, str]]:
    """Each live release's id with its attempt, stage and state, and nothing more."""
    query = select(ReleaseRow.id, ReleaseRow.attempt, ReleaseRow.stage, ReleaseRow.state).where(
        col(ReleaseRow.state).in_(ACTIVE_STATES)
    )
    return {
        release_id: (attempt, stage, state)
        for release_id, attempt, stage, state in session.exec(query).all()
        if release_id is not None
    }


def add_event(session: Session, event: ReleaseEvent) -> None:
    session.add(event)


def events(
    session: Session, *, release_id: int | None = None, limit: int = 30
) -> Sequence[ReleaseEvent]:
    """The latest ``limit`` transitions (of one release, or of all), oldest first."""
    query = select(ReleaseEvent)
    if release_id is not None:
        query = query.where(ReleaseEvent.release_id == release_id)
    rows = session.exec(query.order_by(col(ReleaseEvent.id).desc()).limit(limit)).all()
    return list(reversed(rows))


def past(session: Session, *, offset: int, limit: int) -> tuple[Sequence[ReleaseRow], int]:
    """Releases that have ended (completed, rolled back, aborted), newest first, one page
    of them, with how many there are in all."""
    ended = col(ReleaseRow.state).not_in(ACTIVE_STATES)
    total = session.exec(select(func.count()).select_from(ReleaseRow).where(ended)).one()
    query = (
        select(ReleaseRow)
        .where(ended)
        .order_by(col(ReleaseRow.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return session.exec(query).all(), int(total)
