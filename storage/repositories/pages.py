"""Pages and what happened to them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import PageEvent, PageRow, Timer


def add(session: Session, row: PageRow) -> PageRow:
    session.add(row)
    session.flush()
    return row


def lock_timers(session: Session, *, page_ids: Sequence[int]) -> None:
    """Lock the pages' step and reminder timers before the pages themselves: a firing
    timer holds its row when it comes for the page, so every path takes timers first."""
    bind = session.get_bind()
    if not page_ids or bind.dialect.name == "sqlite":  # one writer at a time there anyway
        return
    keys = [f"page:{i}:{kind}" for i in page_ids for kind in ("step", "remind")]
    query = select(Timer.key).where(col(Timer.key).in_(keys)).order_by(col(Timer.key))
    session.exec(query.with_for_update()).all()


# Statements read on every event are built once: building and keying a new one costs
# several times what running it does.
_BY_ID = select(PageRow).where(PageRow.id == bindparam("page_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_IDS_OF_INCIDENT = select(PageRow.id).where(PageRow.incident_id == bindparam("incident_id"))
_OF_INCIDENT_LOCKED = (
    select(PageRow)
    .where(PageRow.incident_id == bindparam("incident_id"))
    .with_for_update()
    .order_by(col(PageRow.id))
)


def get(session: Session, *, page_id: int, for_update: bool = False) -> PageRow | None:
    if for_update:
        lock_timers(session, page_ids=[page_id])
    query = _BY_ID_LOCKED if for_update else _BY_ID
    return session.exec(query, params={"page_id": page_id}).first()


def for_incident(session: Session, *, incident_id: int) -> Sequence[PageRow]:
    """The incident's pages, locked (their timers first); the incident is locked already."""
    params = {"incident_id": incident_id}
    if session.get_bind().dialect.name != "sqlite":  # one writer at a time there anyway
        ids = session.exec(_IDS_OF_INCIDENT, params=params).all()
        lock_timers(session, page_ids=[i for i in ids if i is not None])
    return session.exec(_OF_INCIDENT_LOCKED, params=params).all()


def acknowledged_by(session: Session, *, person: str) -> list[int]:
    """The ids of the pages ``person`` acknowledged that are not resolved yet."""
    query = select(PageRow.id).where(PageRow.state == "acknowledged", PageRow.acked_by == person)
    return [i for i in session.exec(query.order_by(col(PageRow.id))).all() if i is not None]


def search(
    session: Session, *, open_only: bool = False, team: str | None = None, limit: int = 20
) -> Sequence[PageRow]:
    query = select(PageRow)
    if open_only:
        query = query.where(col(PageRow.state).in_(("open", "acknowledged")))
    if team is not None:
        query = query.where(PageRow.team == team)
    return session.exec(query.order_by(col(PageRow.id).desc()).limit(limit)).all()


def add_event(session: Session, event: PageEvent) -> None:
    session.add(event)


def events(session: Session, *, page_id: int) -> Sequence[PageEvent]:
    query = select(PageEvent).where(PageEvent.page_id == page_id).order_by(col(PageEvent.id))
    return session.exec(query).all()


def unresolved_of_incident(session: Session, *, incident_id: int) -> Sequence[PageRow]:
    """The incident's pages still open or acknowledged, oldest first, read without locks
    (for showing, not for changing)."""
    query = (
        select(PageRow)
        .where(PageRow.incident_id == incident_id)
        .where(col(PageRow.state).in_(("open", "acknowledged")))
    )
    return session.exec(query.order_by(col(PageRow.id))).all()
