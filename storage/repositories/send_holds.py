"""Send holds: until when a platform told us to leave one robot or chat alone, for every
process on the database (a restarted one, another replica) to wait out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import SendHold


def hold(session: Session, *, key: str, until: datetime, reason: str) -> None:
    """No sends to ``key`` before ``until`` (a later hold already there is kept)."""
    row = session.get(SendHold, key)
    if row is None:
        session.add(SendHold(key=key, until=until, reason=reason[:300]))
        return
    if until > row.until:
        row.until, row.reason = until, reason[:300]
        session.add(row)


def record(session: Session, *, key: str, until: datetime, reason: str) -> None:
    """``hold`` and commit; two replicas told at once leave one row (the other's)."""
    try:
        hold(session, key=key, until=until, reason=reason)
        session.commit()
    except IntegrityError:
        session.rollback()  # the other replica's hold is there: it says the same


def held_until(session: Session, *, key: str, now: datetime) -> datetime | None:
    """When ``key`` may be sent to again, if that is still ahead of ``now``."""
    row = session.get(SendHold, key)
    return row.until if row is not None and row.until > now else None
