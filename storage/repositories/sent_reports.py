"""Reports as they were posted: kept when posted, read back newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import ChartImage, SentReport


def add(session: Session, row: SentReport) -> SentReport:
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, report_id: int) -> SentReport | None:
    return session.get(SentReport, report_id)


def newest(
    session: Session, *, kind: str | None = None, offset: int = 0, limit: int = 20
) -> tuple[Sequence[SentReport], int]:
    """One page of reports, newest first, and how many there are in all."""
    query = select(SentReport)
    count = select(func.count()).select_from(SentReport)
    if kind is not None:
        query = query.where(SentReport.kind == kind)
        count = count.where(SentReport.kind == kind)
    rows = session.exec(query.order_by(col(SentReport.id).desc()).offset(offset).limit(limit))
    return rows.all(), int(session.exec(count).one())


def chart_kept(session: Session, *, chart_id: str) -> bool:
    """Whether the chart is still stored (charts are forgotten after a while)."""
    found = select(ChartImage.id).where(ChartImage.id == chart_id)
    return session.exec(found).first() is not None
