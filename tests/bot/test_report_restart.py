"""A report due while the bot was down posts once on start, marked late, within the
grace window; never twice for one period; past the window it is skipped."""

from __future__ import annotations

import pytest

from tests.bot.test_restart import drill

pytestmark = pytest.mark.usefixtures("database_url")
MORNING = "☀️ Morning health post"


def test_a_missed_morning_post_is_posted_once_late_then_skipped_past_the_grace(
    database_url: str,
) -> None:
    first = drill(
        database_url,
        "2026-11-23T08:00:00+08:00",
        "/summary subscribe daily --at 09:00 --tz Asia/Shanghai\n",
    )
    assert "Next: 2026-11-23 09:00 CST." in first
    assert MORNING not in first

    # Down from 08:00 to 10:00: the 09:00 post comes once, on start, marked late.
    second = drill(database_url, "2026-11-23T10:00:00+08:00", "/summary list\n")
    assert second.count(MORNING) == 1
    assert f"{MORNING} — 2026-11-23 (Asia/Shanghai)\n(late by 1h:" in second
    assert "Open incidents: 0" in second
    assert "last posted (2026-11-23 09:00 CST)" in second
    assert "next 2026-11-24 09:00 CST" in second

    third = drill(database_url, "2026-11-23T10:30:00+08:00", "/summary list\n")
    assert MORNING not in third, "never twice for the same day"

    # Down across the next 09:00 by more than the 2h grace: skipped, and said so in the list.
    fourth = drill(database_url, "2026-11-24T11:30:00+08:00", "/summary list\n")
    assert MORNING not in fourth
    assert "last missed, the bot was down past the grace window (2026-11-24 09:00 CST)" in fourth
    assert "next 2026-11-25 09:00 CST" in fourth

    # Back in time for the next one: on time, not late.
    fifth = drill(database_url, "2026-11-25T08:59:00+08:00", ":advance 1m\n")
    assert fifth.count(MORNING) == 1
    assert "late by" not in fifth
