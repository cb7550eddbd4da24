"""Reports as they were posted: kept with the message they went out as (catalog keys and
parameters, so each reader sees one in their language), and read back for the web
console's list of past reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from commands.core.context import SystemContext
from playbooks.effects import Conversation
from playbooks.messages import Message, message_from_json, message_to_json
from playbooks.reports.schedule import ReportKind
from playbooks.reports.subscriptions import ReportAsk
from storage.models import SentReport
from storage.repositories import sent_reports as repo
from storage.unit_of_work import unit_of_work

PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class PastReport:
    id: int
    kind: ReportKind
    at: datetime
    start: datetime
    end: datetime
    services: tuple[str, ...]
    conversation: Conversation
    message: Message
    late: bool
    scheduled: bool  # False: asked for by hand (/summary now)
    chart_kept: bool  # its chart is still stored (charts are forgotten after a while)


@dataclass(frozen=True, slots=True)
class ReportList:
    reports: tuple[PastReport, ...]
    total: int
    page: int
    pages: int


def keep(
    ctx: SystemContext,
    ask: ReportAsk,
    message: Message,
    *,
    chart_id: str | None,
    run_id: int | None,
) -> None:
    """Keep the report as it is posted, in the transaction that posts it."""
    repo.add(
        ctx.session,
        SentReport(
            kind=ask.kind.value,
            at=ask.at,
            period_start=ask.start,
            period_end=ask.end,
            timezone=str(ask.tz),
            services=list(ask.only),
            platform=ask.conversation.platform,
            channel=ask.conversation.channel,
            message=message_to_json(message),
            chart_id=chart_id,
            run_id=run_id,
            late=ask.late_by is not None,
            created_at=ctx.now,
        ),
    )


def _view(row: SentReport, *, chart_kept: bool) -> PastReport:
    assert row.id is not None
    return PastReport(
        id=row.id,
        kind=ReportKind(row.kind),
        at=row.at,
        start=row.period_start,
        end=row.period_end,
        services=tuple(row.services),
        conversation=Conversation(row.platform, row.channel),
        message=message_from_json(row.message),
        late=row.late,
        scheduled=row.run_id is not None,
        chart_kept=chart_kept,
    )


def past_reports(
    engine: Engine, *, page: int = 1, kind: ReportKind | None = None, per_page: int = PER_PAGE
) -> ReportList:
    """One page (counted from 1) of the reports posted, newest first."""
    page = max(page, 1)
    with unit_of_work(engine) as session:
        rows, total = repo.newest(
            session,
            kind=kind.value if kind else None,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        reports = tuple(_view(row, chart_kept=False) for row in rows)
    pages = max(1, -(-total // per_page))
    return ReportList(reports, total, page, pages)


def past_report(engine: Engine, report_id: int) -> PastReport | None:
    """One report as it was posted, and whether its chart is still there to show."""
    with unit_of_work(engine) as session:
        row = repo.get(session, report_id=report_id)
        if row is None:
            return None
        kept = row.chart_id is not None and repo.chart_kept(session, chart_id=row.chart_id)
        return _view(row, chart_kept=kept)
