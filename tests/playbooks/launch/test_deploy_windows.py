"""Deploy windows and blackouts: local days and hours across timezones, and the ends of
months, quarters and years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from playbooks.business_time import WorkCalendar
from playbooks.launch.plan import Blackout, BlackoutPeriods, Window, WindowGate, WindowPolicy
from playbooks.launch.windows import blackout_of, blackout_summary, check, next_opening

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
POLICY = WindowPolicy(gate=WindowGate.START)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("now", "tz", "is_open"),
    [
        ("2026-11-23T17:00+08:00", SHANGHAI, True),  # Monday, the window opens
        ("2026-11-23T17:59+08:00", SHANGHAI, True),
        ("2026-11-23T18:00+08:00", SHANGHAI, False),  # it closes at 18:00
        ("2026-11-23T16:59+08:00", SHANGHAI, False),
        ("2026-11-23T09:00+00:00", SHANGHAI, True),  # 17:00 in Shanghai, read in UTC
        ("2026-11-23T09:00+00:00", NEW_YORK, False),  # 04:00 in New York
        ("2026-11-23T22:30+00:00", NEW_YORK, True),  # 17:30 in New York
        ("2026-11-21T10:30+08:00", SHANGHAI, True),  # Saturday morning
        ("2026-11-21T17:30+08:00", SHANGHAI, False),  # Saturday evening is no weekday
        ("2026-11-28T10:30+08:00", SHANGHAI, False),  # Saturday, but 3 days to month end
    ],
)
def test_windows_are_read_in_the_services_timezone(now: str, tz: ZoneInfo, is_open: bool) -> None:
    assert check(POLICY, now=at(now), tz=tz).open is is_open


def test_outside_a_window_names_the_next_one() -> None:
    result = check(POLICY, now=at("2026-11-23T09:00+08:00"), tz=SHANGHAI)
    assert result.next is not None
    assert result.next.opens == at("2026-11-23T17:00+08:00")
    friday_night = next_opening(POLICY, now=at("2026-11-20T18:30+08:00"), tz=SHANGHAI)
    assert friday_night is not None
    assert friday_night.opens == at("2026-11-21T10:00+08:00")


@pytest.mark.parametrize(
    ("day", "key"),
    [
        # The last 3 days of a month, the last 5 of a quarter, 20 Dec to 3 Jan.
        (date(2026, 11, 30), "window.month_end"),
        (date(2026, 11, 28), "window.month_end"),
        (date(2026, 11, 27), None),
        (date(2027, 2, 26), "window.month_end"),
        (date(2027, 2, 25), None),
        (date(2028, 2, 27), "window.month_end"),  # a leap year's February ends on the 29th
        (date(2028, 2, 26), None),
        (date(2027, 3, 31), "window.quarter_end"),
        (date(2027, 3, 27), "window.quarter_end"),
        (date(2027, 3, 26), None),
        (date(2027, 6, 30), "window.quarter_end"),
        (date(2026, 12, 20), "window.year_end"),
        (date(2026, 12, 19), None),
        (date(2026, 12, 31), "window.year_end"),
        (date(2027, 1, 3), "window.year_end"),
        (date(2027, 1, 4), None),
    ],
)
def test_blackouts_at_the_end_of_months_quarters_and_years(day: date, key: str | None) -> None:
    found = blackout_of(day, POLICY)
    assert (found.key if found else None) == key


def test_the_periods_are_configurable_and_summarised() -> None:
    short = WindowPolicy(gate=WindowGate.START, periods=BlackoutPeriods(1, 2, (12, 31), (12, 31)))
    assert blackout_of(date(2026, 11, 29), short) is None
    assert blackout_of(date(2027, 3, 30), short) is not None
    assert blackout_of(date(2026, 12, 20), short) is None
    summary = blackout_summary(POLICY)
    assert summary is not None
    assert summary.key == "window.blackouts"


def test_only_the_listed_blackouts_apply() -> None:
    years_only = WindowPolicy(gate=WindowGate.START, blackouts=frozenset({Blackout.YEAR_END}))
    assert blackout_of(date(2027, 3, 31), years_only) is None
    assert blackout_of(date(2026, 11, 30), years_only) is None
    assert blackout_of(date(2026, 12, 31), years_only) is not None


def test_a_month_end_monday_is_closed_and_the_next_window_is_the_day_after() -> None:
    result = check(POLICY, now=at("2026-11-30T17:15+08:00"), tz=SHANGHAI)
    assert not result.open
    assert result.closed_because is not None
    assert result.closed_because.key == "window.month_end"
    assert result.next is not None
    assert result.next.opens == at("2026-12-01T17:00+08:00")


def test_the_local_day_decides_the_blackout_not_the_utc_one() -> None:
    mornings = WindowPolicy(
        gate=WindowGate.START, windows=(Window(frozenset(range(7)), time(7), time(8)),)
    )
    # 23:30 UTC on 30 November (a month's end) is 07:30 on 1 December in Shanghai: open.
    assert check(mornings, now=at("2026-11-30T23:30+00:00"), tz=SHANGHAI).open
    # 07:30 on 30 November in Shanghai is the month's end there: closed.
    assert not check(mornings, now=at("2026-11-29T23:30+00:00"), tz=SHANGHAI).open


def test_the_year_end_run_skips_to_the_next_open_day() -> None:
    freezes = {date(2027, 1, 1): "new year"}
    nxt = next_opening(POLICY, now=at("2026-12-30T18:30+08:00"), tz=SHANGHAI, freezes=freezes)
    # The year-end blackout runs to 3 January; 4 January is a Monday.
    assert nxt is not None
    assert nxt.opens == at("2027-01-04T17:00+08:00")


def test_a_declared_freeze_closes_its_day_even_without_windows() -> None:
    off = WindowPolicy()
    freezes = {date(2026, 12, 24): "holiday traffic"}
    frozen = check(
        off, now=at("2026-12-24T12:00+08:00"), tz=SHANGHAI, freezes=freezes, windows_apply=False
    )
    assert not frozen.open
    assert frozen.closed_because is not None
    assert frozen.closed_because.key == "window.freeze_day"
    free = check(
        off, now=at("2026-12-23T03:00+08:00"), tz=SHANGHAI, freezes=freezes, windows_apply=False
    )
    assert free.open


def test_custom_windows() -> None:
    nights = WindowPolicy(
        gate=WindowGate.START,
        windows=(Window(frozenset({1, 3}), time(22), time(23, 30)),),
        blackouts=frozenset(),
    )
    assert check(nights, now=at("2026-11-24T22:15+08:00"), tz=SHANGHAI).open  # Tuesday
    assert not check(nights, now=at("2026-11-23T22:15+08:00"), tz=SHANGHAI).open  # Monday
    assert check(nights, now=datetime(2026, 11, 24, 14, 59, tzinfo=UTC), tz=SHANGHAI).open


# China's 2026 Spring Festival: Saturday 14 February is worked (调休), 15-23 February are off.
SPRING_FESTIVAL = WorkCalendar(
    country="CN",
    days_off=frozenset(date(2026, 2, d) for d in range(15, 24)),
    days_on=frozenset({date(2026, 2, 14), date(2026, 2, 28)}),
)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        ("2026-02-14T17:30+08:00", True),  # a Saturday worked: the weekday window
        ("2026-02-14T10:30+08:00", False),  # and not the weekend one
        ("2026-02-16T17:30+08:00", False),  # a Monday off: no weekday window
        ("2026-02-16T10:30+08:00", True),  # but the days-off one
        ("2026-02-24T17:30+08:00", True),  # back at work
    ],
)
def test_weekday_and_weekend_windows_follow_the_working_calendar(now: str, is_open: bool) -> None:
    assert check(POLICY, now=at(now), tz=SHANGHAI, calendar=SPRING_FESTIVAL).open is is_open


def test_the_next_window_after_the_adjusted_saturday_is_a_days_off_morning() -> None:
    evening = at("2026-02-14T18:30+08:00")
    nxt = next_opening(POLICY, now=evening, tz=SHANGHAI, calendar=SPRING_FESTIVAL)
    assert nxt is not None
    assert nxt.opens == at("2026-02-15T10:00+08:00")
    # Named days keep to the weekday: a Monday window opens on a Monday off.
    on_mondays = (Window(frozenset({0}), time(9), time(10)),)
    mondays = WindowPolicy(gate=WindowGate.START, windows=on_mondays)
    monday = at("2026-02-16T09:30+08:00")
    assert check(mondays, now=monday, tz=SHANGHAI, calendar=SPRING_FESTIVAL).open
