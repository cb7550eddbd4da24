"""Working-time arithmetic: "1 working day" from Friday 17:00 is Monday 17:00.

A working day is the span from ``start`` to ``end`` on a working day of the calendar, in
the policy's timezone: a working weekday that is no public holiday, or a weekend day the
country works (China's adjusted working weekends, 调休). Adding working time walks
forward through those spans only; a deadline that starts outside working hours starts
counting at the next opening.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

MAX_DAYS_SCANNED = 3660  # ten years of calendar: a calendar with no working day is an error


SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_TO_FRIDAY = frozenset({0, 1, 2, 3, 4})  # Monday is 0


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """A country's official working calendar as days, built outside the domain (from a
    holiday library and the config's own days): ``days_off`` are holidays, ``days_on`` are
    weekend days worked (调休). Any other day is a working day when it is a working
    weekday."""

    country: str = ""  # what the days are the calendar of ("CN"), for people to read
    days_off: frozenset[date] = frozenset()
    days_on: frozenset[date] = frozenset()

    def is_working_day(self, day: date, *, weekdays: Collection[int] = MONDAY_TO_FRIDAY) -> bool:
        if day in self.days_on:
            return True
        return day not in self.days_off and day.weekday() in weekdays

    def adjusted(
        self, *, days_off: Collection[date] = (), days_on: Collection[date] = ()
    ) -> WorkCalendar:
        """This calendar with more holidays and more working days; a day named in either
        leaves the other (a holiday taken back is worked, a working day given off is not)."""
        off, on = frozenset(days_off), frozenset(days_on)
        return WorkCalendar(
            country=self.country,
            days_off=(self.days_off - on) | off,
            days_on=(self.days_on - off) | on,
        )

    def between(self, first: date, last: date) -> WorkCalendar:
        """The part of this calendar from ``first`` to ``last``, both included."""
        return WorkCalendar(
            country=self.country,
            days_off=frozenset(d for d in self.days_off if first <= d <= last),
            days_on=frozenset(d for d in self.days_on if first <= d <= last),
        )


@dataclass(frozen=True, slots=True)
class WorkingHours:
    tz: tzinfo = SHANGHAI
    start: time = time(9, 0)
    end: time = time(18, 0)
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    # The country's holidays and worked weekends (an incident's snapshot keeps a year of it).
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day, weekdays=self.weekdays)

    def _span(self, day: date) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self.start, tzinfo=self.tz)
        closes = datetime.combine(day, self.end, tzinfo=self.tz)
        return opens, closes

    def add(self, moment: datetime, working: timedelta) -> datetime:
        """``moment`` plus ``working`` time counted only inside working hours."""
        if working <= timedelta(0):
            return moment
        local = moment.astimezone(self.tz)
        left = working
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                opens, closes = self._span(day)
                begin = max(opens, local)
                if begin < closes:
                    available = closes - begin
                    if left <= available:
                        return (begin + left).astimezone(moment.tzinfo)
                    left -= available
            day += timedelta(days=1)
        raise ValueError("the working calendar has no working day in ten years")

    def add_days(self, moment: datetime, days: float) -> datetime:
        """``days`` working days later: each day is one ``day_length`` of working time."""
        return self.add(moment, self.day_length * days)

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself inside working hours, else when they next open."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                opens, _ = self._span(day)
                if opens > local:
                    return opens.astimezone(moment.tzinfo)
            day += timedelta(days=1)
        raise ValueError("the working calendar has no working day in ten years")

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        if not self.is_working_day(local.date()):
            return False
        opens, closes = self._span(local.date())
        return opens <= local < closes


@dataclass(frozen=True, slots=True)
class Deadline:
    """A promise: a plain duration (``15m``), or working time (``1 working day``)."""

    duration: timedelta | None = None
    working_days: float | None = None

    def due(self, start: datetime, hours: WorkingHours) -> datetime:
        if self.working_days is not None:
            return hours.add_days(start, self.working_days)
        assert self.duration is not None
        return start + self.duration

    def describe(self) -> str:
        if self.working_days is not None:
            return f"{self.working_days:g} working day" + ("" if self.working_days == 1 else "s")
        assert self.duration is not None
        seconds = int(self.duration.total_seconds())
        for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
            if seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s"
