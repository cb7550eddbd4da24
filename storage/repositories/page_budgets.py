"""Page budget windows, one row per person."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import PageBudgetRow


def get(session: Session, *, person: str) -> PageBudgetRow | None:
    query = select(PageBudgetRow).where(PageBudgetRow.person == person).with_for_update()
    return session.exec(query).first()


def put(session: Session, row: PageBudgetRow) -> None:
    session.add(row)
