"""Report schedules: cron semantics in each subscription's timezone, exact across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from playbooks.errors import UsageError
from playbooks.reports.schedule import (
    Cadence,
    ReportKind,
    jitter,
    last_run,
    next_run,
    parse_at,
    period,
    period_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_at_nine_in_shanghai_is_one_utc() -> None:
    at_nine = Cadence(9, 0)
    assert next_run(at_nine, after=utc(2026, 11, 23, 0, 59), tz=SHANGHAI) == utc(2026, 11, 23, 1)
    # Strictly after: at 09:00 itself the next run is tomorrow's.
    assert next_run(at_nine, after=utc(2026, 11, 23, 1), tz=SHANGHAI) == utc(2026, 11, 24, 1)
    assert last_run(at_nine, at=utc(2026, 11, 23, 1), tz=SHANGHAI) == utc(2026, 11, 23, 1)
    assert last_run(at_nine, at=utc(2026, 11, 23, 0, 59), tz=SHANGHAI) == utc(2026, 11, 22, 1)


def test_weekly_friday_evening_crosses_the_date_line_in_utc() -> None:
    friday = parse_at("fri 17:00", kind=ReportKind.WEEKLY)
    assert friday == Cadence(17, 0, 4)
    # Monday 2026-11-23 → Friday 2026-11-27 17:00 UTC+8 = 09:00 UTC.
    assert next_run(friday, after=utc(2026, 11, 23, 1), tz=SHANGHAI) == utc(2026, 11, 27, 9)
    assert next_run(friday, after=utc(2026, 11, 27, 9), tz=SHANGHAI) == utc(2026, 12, 4, 9)
    # Sunday 08:00 in Shanghai is still Saturday in UTC.
    sunday = parse_at("sunday 08:00", kind=ReportKind.WEEKLY)
    assert next_run(sunday, after=utc(2026, 11, 23), tz=SHANGHAI) == utc(2026, 11, 29, 0)


def test_nine_o_clock_stays_nine_o_clock_across_the_spring_change() -> None:
    at_nine = Cadence(9, 0)
    # Berlin springs forward on 2026-03-29: 09:00 is 08:00 UTC before, 07:00 UTC after.
    before = next_run(at_nine, after=utc(2026, 3, 28, 0), tz=BERLIN)
    after = next_run(at_nine, after=before, tz=BERLIN)
    assert (before, after) == (utc(2026, 3, 28, 8), utc(2026, 3, 29, 7))
    assert after - before == timedelta(hours=23)
    assert after.astimezone(BERLIN).hour == 9


def test_a_time_in_the_spring_gap_runs_just_after_it() -> None:
    # New York skips 02:00–03:00 on 2026-03-08: a 02:30 report runs at 03:00 EDT.
    half_past_two = Cadence(2, 30)
    runs = [next_run(half_past_two, after=utc(2026, 3, 7, 0), tz=NEW_YORK)]
    for _ in range(2):
        runs.append(next_run(half_past_two, after=runs[-1], tz=NEW_YORK))
    assert runs == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)]
    assert runs[1].astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:00 EDT"


def test_a_time_that_happens_twice_in_the_autumn_runs_once() -> None:
    # 01:30 happens twice in New York on 2026-11-01 (EDT, then EST): one run, the first.
    half_past_one = Cadence(1, 30)
    first = next_run(half_past_one, after=utc(2026, 11, 1, 0), tz=NEW_YORK)
    second = next_run(half_past_one, after=first, tz=NEW_YORK)
    assert first == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert second == utc(2026, 11, 2, 6, 30)  # the next day, 01:30 EST
    assert last_run(half_past_one, at=utc(2026, 11, 1, 6, 45), tz=NEW_YORK) == first


def test_periods_are_local_days_and_iso_weeks() -> None:
    nine = utc(2026, 11, 23, 1)  # Monday 09:00 in Shanghai
    assert period_key(ReportKind.DAILY, nine, SHANGHAI) == "2026-11-23"
    assert period_key(ReportKind.DAILY, nine, ZoneInfo("America/Los_Angeles")) == "2026-11-22"
    assert period_key(ReportKind.WEEKLY, utc(2026, 11, 27, 9), SHANGHAI) == "2026-W48"
    assert period(ReportKind.DAILY, nine, SHANGHAI) == (
        utc(2026, 11, 21, 16),
        utc(2026, 11, 22, 16),
    )
    assert period(ReportKind.EVENING, utc(2026, 11, 23, 9), SHANGHAI) == (
        utc(2026, 11, 22, 16),
        utc(2026, 11, 23, 9),
    )
    assert period(ReportKind.WEEKLY, utc(2026, 11, 27, 9), SHANGHAI) == (
        utc(2026, 11, 20, 9),
        utc(2026, 11, 27, 9),
    )


def test_jitter_is_fixed_per_subscription_and_within_its_spread() -> None:
    spread = timedelta(minutes=5)
    offsets = {jitter(n, spread=spread) for n in range(1, 50)}
    assert all(timedelta(0) <= o <= spread for o in offsets)
    assert len(offsets) > 10
    assert jitter(7, spread=spread) == jitter(7, spread=spread)
    assert jitter(7, spread=timedelta(0)) == timedelta(0)


@pytest.mark.parametrize(
    ("text", "kind", "key"),
    [
        ("25:00", ReportKind.DAILY, "summary.bad_at.daily"),
        ("09:60", ReportKind.EVENING, "summary.bad_at.daily"),
        ("9am", ReportKind.DAILY, "summary.bad_at.daily"),
        ("mon 09:00", ReportKind.DAILY, "summary.daily_with_day"),
        ("fir 17:00", ReportKind.WEEKLY, "summary.bad_day"),
        ("fri 7pm", ReportKind.WEEKLY, "summary.bad_at.weekly"),
    ],
)
def test_bad_times_are_refused_with_the_accepted_forms(
    text: str, kind: ReportKind, key: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_at(text, kind=kind)
    assert caught.value.text.key == key


def test_accepted_forms() -> None:
    assert parse_at(" 9:05 ", kind=ReportKind.DAILY) == Cadence(9, 5)
    assert parse_at("17:00", kind=ReportKind.WEEKLY) == Cadence(17, 0, 4)  # Friday, seed 000
    assert parse_at("Fri  17:00", kind=ReportKind.WEEKLY).describe() == "fri 17:00"
