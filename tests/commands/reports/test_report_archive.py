"""Reports kept as they were posted, on SQLite and PostgreSQL: each report posted (on its
schedule or by hand) is kept with its message and chart, and read back a page at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.reports.archive import past_report, past_reports
from playbooks.reports.schedule import ReportKind
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


async def test_reports_are_kept_as_posted_and_read_back_newest_first(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()  # Monday 09:00 in Shanghai: the shipped subscriptions run
    await h.advance(hours=8)  # the 17:00 daily report
    out = await h.say("/summary now weekly --service web")
    assert out.status == "ok", h.reply_text(out)
    listed = past_reports(h.app.engine)
    kinds = [(r.kind, r.scheduled) for r in listed.reports]
    assert kinds[:2] == [(ReportKind.WEEKLY, False), (ReportKind.EVENING, True)]
    assert listed.total == len(listed.reports)
    assert listed.pages == 1
    weekly = past_report(h.app.engine, listed.reports[0].id)
    assert weekly is not None
    assert weekly.services == ("web",)
    assert weekly.conversation.channel == "#ops"
    posted = [s for s in h.adapter.sent if "Weekly report" in s.text]
    assert posted
    assert h.app.translator("en")(weekly.message.blocks[0]) == posted[-1].lines[0]
    assert weekly.message.image is not None
    assert weekly.chart_kept
    assert past_report(h.app.engine, 999) is None


async def test_a_page_at_a_time_and_by_kind(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    for _ in range(3):
        await h.say("/summary now daily")
    await h.advance(hours=8)
    first = past_reports(h.app.engine, per_page=2)
    second = past_reports(h.app.engine, per_page=2, page=2)
    assert first.total == 4
    assert first.pages == 2
    assert [r.id for r in first.reports] == [4, 3]
    assert [r.id for r in second.reports] == [2, 1]
    evening = past_reports(h.app.engine, kind=ReportKind.EVENING)
    assert [r.kind for r in evening.reports] == [ReportKind.EVENING]
    assert past_reports(h.app.engine, page=0).page == 1
    assert h.clock.now() - evening.reports[0].at < timedelta(minutes=10)
