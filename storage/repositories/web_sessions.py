"""Web console sessions, found by the hash of their id (the id itself is never stored)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import WebSession


def create(
    session: Session,
    *,
    id_hash: str,
    handle: str,
    csrf: str,
    now: datetime,
    expires_at: datetime,
) -> WebSession:
    row = WebSession(
        id_hash=id_hash, handle=handle, csrf=csrf, created_at=now, expires_at=expires_at
    )
    session.add(row)
    return row


def live(session: Session, *, id_hash: str, now: datetime) -> WebSession | None:
    """The session with this id hash, unless revoked or expired."""
    row = session.get(WebSession, id_hash)
    if row is None or row.revoked or row.expires_at <= now:
        return None
    return row


def set_locale(session: Session, *, id_hash: str, locale: str) -> None:
    row = session.get(WebSession, id_hash)
    if row is not None:
        row.locale = locale
        session.add(row)


def revoke_all(session: Session, *, handle: str) -> int:
    """End every session of ``handle``; how many were still open."""
    # Row by row (a person has a few), so that the change is seen (``storage.changes``)
    # and the person's open event streams end.
    rows = session.exec(
        select(WebSession).where(WebSession.handle == handle, col(WebSession.revoked).is_(False))
    ).all()
    for row in rows:
        row.revoked = True
        session.add(row)
    return len(rows)


def of_person(session: Session, *, handle: str, now: datetime) -> list[WebSession]:
    """The person's sessions still open, newest first."""
    query = (
        select(WebSession)
        .where(
            WebSession.handle == handle,
            col(WebSession.revoked).is_(False),
            WebSession.expires_at > now,
        )
        .order_by(col(WebSession.created_at).desc())
    )
    return list(session.exec(query).all())
