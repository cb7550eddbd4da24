"""Page budget windows, one row per person."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage import upsert
from storage.models import PageBudgetRow


def get(session: Session, *, person: str) -> PageBudgetRow | None:
    query = select(PageBudgetRow).where(PageBudgetRow.person == person).with_for_update()
    return session.exec(query).first()


def lock(session: Session, *, person: str, now: datetime) -> tuple[PageBudgetRow, bool]:
    """The person's row, locked; created first when there is none (True then). Two first
    pages at once both insert-if-absent, so neither fails on the other's row."""
    values = {"person": person, "window_start": now, "sent": 0, "held": []}
    statement = (
        upsert.insert(session.get_bind().dialect.name, PageBudgetRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["person"])
        .returning(col(PageBudgetRow.person))
    )
    # RETURNING gives a row only when this insert made it (rowcount is not reliable).
    created = session.connection().execute(statement).first() is not None
    row = get(session, person=person)
    assert row is not None
    return row, created


def put(session: Session, row: PageBudgetRow) -> None:
    session.add(row)
