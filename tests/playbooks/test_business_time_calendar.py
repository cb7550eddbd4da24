"""The working calendar in working time: a weekend day worked (调休) counts, a holiday does
not, for working-day deadlines and the next working morning; days added by config."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from playbooks.business_time import Deadline, WorkCalendar, WorkingHours
from playbooks.incidents.policy import SeverityPolicy, default_settings

SH = ZoneInfo("Asia/Shanghai")
# China's 2026 Spring Festival: Saturday 14 February is worked, 15-23 February are off.
SPRING_FESTIVAL = WorkCalendar(
    country="CN",
    days_off=frozenset(date(2026, 2, d) for d in range(15, 24)),
    days_on=frozenset({date(2026, 2, 14), date(2026, 2, 28)}),
)
HOURS = WorkingHours(tz=SH, calendar=SPRING_FESTIVAL)


def test_the_adjusted_saturday_is_a_working_day_and_the_holiday_monday_is_not() -> None:
    assert HOURS.is_working_day(date(2026, 2, 14))
    assert not HOURS.is_working_day(date(2026, 2, 16))
    assert HOURS.is_open(datetime(2026, 2, 14, 10, tzinfo=SH))
    assert not HOURS.is_open(datetime(2026, 2, 16, 10, tzinfo=SH))
    assert not WorkingHours(tz=SH).is_working_day(date(2026, 2, 14))  # no calendar: a Saturday


def test_working_days_count_the_saturday_worked_and_skip_the_festival() -> None:
    friday = datetime(2026, 2, 13, 10, tzinfo=SH)
    assert Deadline(working_days=1).due(friday, HOURS) == datetime(2026, 2, 14, 10, tzinfo=SH)
    saturday_evening = datetime(2026, 2, 14, 17, tzinfo=SH)
    # An hour on Saturday, then eight on Tuesday the 24th, the first day back.
    assert Deadline(working_days=1).due(saturday_evening, HOURS) == datetime(
        2026, 2, 24, 17, tzinfo=SH
    )


def test_the_next_working_morning_is_the_adjusted_saturday_or_after_the_festival() -> None:
    friday_night = datetime(2026, 2, 13, 20, tzinfo=SH)
    assert HOURS.next_opening(friday_night) == datetime(2026, 2, 14, 9, tzinfo=SH)
    holiday = datetime(2026, 2, 16, 10, tzinfo=SH)
    assert HOURS.next_opening(holiday) == datetime(2026, 2, 24, 9, tzinfo=SH)


def test_config_days_add_a_holiday_and_take_one_back() -> None:
    adjusted = SPRING_FESTIVAL.adjusted(
        days_off=[date(2026, 2, 14), date(2026, 2, 24)], days_on=[date(2026, 2, 23)]
    )
    assert not adjusted.is_working_day(date(2026, 2, 14))  # the Saturday given off after all
    assert not adjusted.is_working_day(date(2026, 2, 24))  # a company holiday
    assert adjusted.is_working_day(date(2026, 2, 23))  # a festival day the team works
    assert adjusted.country == "CN"


def test_an_incident_snapshot_keeps_a_year_of_the_calendar() -> None:
    policy = replace(default_settings().policy, hours=HOURS)
    opened_in_february = policy.for_incident(date(2026, 2, 10)).to_json()
    assert SeverityPolicy.from_json(opened_in_february).hours.calendar == SPRING_FESTIVAL
    opened_next_summer = policy.for_incident(date(2027, 6, 1)).to_json()
    assert SeverityPolicy.from_json(opened_next_summer).hours.calendar == WorkCalendar("CN")
