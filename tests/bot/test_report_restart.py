"""A report due while the bot was down posts once on start, marked late, within the
grace window; never twice for one period; past the window it is skipped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from storage.engine import make_engine
from storage.models import SummaryRun, SummarySubscription
from storage.unit_of_work import unit_of_work
from tests.bot.test_restart import drill

pytestmark = pytest.mark.usefixtures("database_url")
MORNING = "☀️ Morning health post"


def test_a_missed_morning_post_is_posted_once_late_then_skipped_past_the_grace(
    database_url: str,
) -> None:
    first = drill(
        database_url,
        "2026-11-23T08:00:00+08:00",
        "/summary list\n",  # the shipped morning post: 09:00 Shanghai, no command
    )
    assert "#1 morning health post at 09:00 (Asia/Shanghai)" in first
    assert "next 2026-11-23 09:00 UTC+8" in first
    assert MORNING not in first

    # Down from 08:00 to 10:00: the 09:00 post comes once, on start, marked late.
    second = drill(database_url, "2026-11-23T10:00:00+08:00", "/summary list\n")
    assert second.count(MORNING) == 1
    assert f"{MORNING} — 2026-11-23 (Asia/Shanghai)\n(late by 1h:" in second
    assert "Open incidents: 0" in second
    assert "last posted (2026-11-23 09:00 UTC+8)" in second
    assert "next 2026-11-24 09:00 UTC+8" in second

    third = drill(database_url, "2026-11-23T10:30:00+08:00", "/summary list\n")
    assert MORNING not in third, "never twice for the same day"

    # Down across the next 09:00 by more than the 2h grace: skipped, and said so in the list.
    fourth = drill(database_url, "2026-11-24T11:30:00+08:00", "/summary list\n")
    assert MORNING not in fourth
    assert "last missed, the bot was down past the grace window (2026-11-24 09:00 UTC+8)" in fourth
    assert "next 2026-11-25 09:00 UTC+8" in fourth

    # Back in time for the next one: on time, not late.
    fifth = drill(database_url, "2026-11-25T08:59:00+08:00", ":advance 1m\n")
    assert fifth.count(MORNING) == 1
    assert "late by" not in fifth


def _left_reading(database_url: str, *, period: str, scheduled_at: datetime) -> None:
    """What a crash between claiming a run and its readings coming back leaves."""
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            [sub] = session.exec(
                select(SummarySubscription).where(SummarySubscription.kind == "daily")
            ).all()
            assert sub.id is not None
            session.add(
                SummaryRun(
                    subscription_id=sub.id,
                    period=period,
                    scheduled_at=scheduled_at,
                    ran_at=scheduled_at,
                    outcome="reading",
                )
            )
    finally:
        engine.dispose()


def _outcomes(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            return [r.outcome for r in session.exec(select(SummaryRun)).all()]
    finally:
        engine.dispose()


def test_a_run_left_reading_by_a_crash_is_read_again_once_on_start(database_url: str) -> None:
    drill(
        database_url,
        "2026-11-23T08:00:00+08:00",
        "/summary list\n",  # the shipped morning post
    )
    _left_reading(
        database_url, period="2026-11-23", scheduled_at=datetime(2026, 11, 23, 1, tzinfo=UTC)
    )
    # Back at 09:30: the claimed run is read again and posted once, marked late.
    second = drill(database_url, "2026-11-23T09:30:00+08:00", "/summary list\n")
    assert second.count(MORNING) == 1
    assert f"{MORNING} — 2026-11-23 (Asia/Shanghai)\n(late by 30m" in second
    assert _outcomes(database_url) == ["posted"]
    third = drill(database_url, "2026-11-23T09:40:00+08:00", "/summary list\n")
    assert MORNING not in third, "never twice for the same day"


def test_a_run_left_reading_past_the_grace_is_not_read_again(database_url: str) -> None:
    drill(
        database_url,
        "2026-11-23T08:00:00+08:00",
        "/summary list\n",  # the shipped morning post
    )
    _left_reading(
        database_url, period="2026-11-23", scheduled_at=datetime(2026, 11, 23, 1, tzinfo=UTC)
    )
    later = drill(database_url, "2026-11-23T11:30:00+08:00", "/summary list\n")
    assert MORNING not in later
    assert "last missed, the bot was down past the grace window (2026-11-23 09:00 UTC+8)" in later
    assert _outcomes(database_url) == ["missed"]
