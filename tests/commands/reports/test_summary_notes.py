"""/summary note through the pipeline, on SQLite and PostgreSQL: what only people know
(seed 000's templates) is asked for an hour before the shipped daily report, shown in it,
and "not given" when nobody answered."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.models import SummaryNote
from storage.unit_of_work import unit_of_work
from tests.conftest import START, Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


def sent_to(h: Harness, address: str) -> list[str]:
    return [s.text for s in h.adapter.sent if s.address == address]


async def test_notes_are_asked_for_and_shown_in_the_daily_report(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=START)  # Monday 09:00 Shanghai; the report is at 17:00
    out = await h.say('/summary note daily plan "ship the search fix"', user="bob")
    assert out.status == "ok", h.reply_text(out)
    assert "Noted for the next evening daily report: Tomorrow's plan" in h.reply_text(out)
    await h.advance(hours=6, minutes=59)
    assert sent_to(h, "alice") == []
    await h.advance(minutes=1)  # 16:00: an hour before, the config's @alice is asked
    [ask] = sent_to(h, "alice")
    assert "not given yet: feedback" in ask
    assert "/summary note daily feedback …" in ask
    await h.advance(hours=1)  # 17:00
    [report] = [p for p in sent_to(h, "#ops") if p.startswith("📋 Daily report")]
    assert "Tomorrow's plan:\n  - ship the search fix (@bob)" in report
    assert "User feedback:\n  not given" in report
    assert "Average response time: 45 ms" in report
    assert "Errors: 12" in report


async def test_nobody_is_asked_when_every_section_is_in(make_harness: HarnessFactory) -> None:
    h = await make_harness(start=START)
    await h.say('/summary note daily plan "ship the search fix"', user="bob")
    await h.say('/summary note daily feedback "two users like the new filters"', user="bob")
    await h.advance(hours=8)
    assert sent_to(h, "alice") == []
    [report] = [p for p in sent_to(h, "#ops") if p.startswith("📋 Daily report")]
    assert "User feedback:\n  - two users like the new filters (@bob)" in report


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        (
            "/summary note daily nps 40",
            "The daily report has no nps section; its sections are feedback, plan.",
        ),
        ("/summary note weekly focus", "The text is missing."),
        ("/summary note monthly plan x", "“monthly” is not an option here"),
    ],
)
async def test_a_wrong_note_is_one_sentence_and_stores_nothing(
    make_harness: HarnessFactory, line: str, sentence: str
) -> None:
    h = await make_harness(start=START)
    out = await h.say(line, user="bob")
    assert out.status == "usage"
    assert sentence in h.reply_text(out)
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(SummaryNote)).all() == []


async def test_the_weekly_report_shows_nps_improvements_and_focus(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=START)
    await h.say("/summary note weekly nps 42", user="carol")
    await h.advance(days=4, hours=8)  # Friday 17:00
    [weekly] = [p for p in sent_to(h, "#ops") if p.startswith("📊 Weekly report")]
    assert "NPS:\n  - 42 (@carol)" in weekly
    assert "Improvements:\n  not given" in weekly
    assert "Next week's focus:\n  not given" in weekly
