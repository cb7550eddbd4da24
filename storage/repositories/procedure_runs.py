"""Procedure runs (rollback runbooks, emergency playbooks), as stored."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from storage.models import ProcedureRun


def add(session: Session, row: ProcedureRun) -> ProcedureRun:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, run_id: int, for_update: bool = False) -> ProcedureRun | None:
    query = select(ProcedureRun).where(ProcedureRun.id == run_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def latest_for_release(
    session: Session, *, release_id: int, for_update: bool = False
) -> ProcedureRun | None:
    query = (
        select(ProcedureRun)
        .where(ProcedureRun.release_id == release_id, ProcedureRun.kind == "rollback")
        .order_by(col(ProcedureRun.id).desc())
    )
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def recent(session: Session, *, limit: int) -> Sequence[ProcedureRun]:
    """Open runs first, then the latest closed ones."""
    query = (
        select(ProcedureRun)
        .order_by(col(ProcedureRun.closed_at).is_not(None), col(ProcedureRun.id).desc())
        .limit(limit)
    )
    return session.exec(query).all()
