"""Duty leases: take, keep and give back a duty with one conditional statement each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlmodel import Session, col, select

from storage import upsert
from storage.models import DutyLease


def acquire(
    session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> int | None:
    """Take or renew ``name`` for ``holder`` until ``now + ttl``; its fencing token if held.

    Renewing keeps the token; taking it from a lapsed holder adds one, so whoever held it
    before can tell its tenure ended. None while another holder's lease runs."""
    renewed = session.execute(
        update(DutyLease)
        .where(
            col(DutyLease.name) == name,
            or_(col(DutyLease.holder) == holder, col(DutyLease.expires_at) < now),
        )
        # The right-hand sides see the row as it was: the old holder decides the token.
        .values(
            token=case(
                (col(DutyLease.holder) == holder, col(DutyLease.token)),
                else_=col(DutyLease.token) + 1,
            ),
            holder=holder,
            expires_at=now + ttl,
        )
        .returning(col(DutyLease.token))
    ).first()
    if renewed is not None:
        return int(renewed[0])
    dialect = session.get_bind().dialect.name
    # The first taker of a duty creates its row; a racing second one inserts nothing.
    created = session.execute(
        upsert.insert(dialect, DutyLease)
        .values(name=name, holder=holder, token=1, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(col(DutyLease.token))
    ).first()
    return int(created[0]) if created is not None else None


def release(session: Session, *, name: str, holder: str, now: datetime) -> bool:
    """Give ``name`` up at once (a clean stop), so another replica need not wait out the
    lease; nothing happens if ``holder`` no longer holds it."""
    result = session.execute(
        update(DutyLease)
        .where(col(DutyLease.name) == name, col(DutyLease.holder) == holder)
        .values(expires_at=now - timedelta(seconds=1))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def leases(session: Session) -> Sequence[DutyLease]:
    return session.exec(select(DutyLease).order_by(col(DutyLease.name))).all()
