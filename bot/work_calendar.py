"""Official working calendars from kept libraries, with the config's own days.

China's comes from chinese-calendar: the State Council's holidays and the weekend days
worked in exchange (调休), year by year as published, and nothing for a year not yet
published. Other countries' come from holidays, whose rules give every year in its range.
The domain gets plain days (``WorkCalendar``): these libraries stay here, in the runtime
(holidays reads its translation files when a calendar is built).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.metadata import version
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from playbooks.business_time import WorkCalendar

CHINA = "CN"
DEFAULT_COUNTRY = CHINA  # the reference plans are Chinese teams'
# Years built for a country of the holidays library: its rules know far more, but a
# working-day clock never reaches past these.
HOLIDAYS_YEARS = range(2000, 2061)
# How far ahead `shipwatch check` looks for a year the calendar does not know: a year
# whose holidays are published in its last weeks before (China's are, in November) is
# said only once it is close.
LOOK_AHEAD = timedelta(days=60)


@dataclass(frozen=True, slots=True)
class Official:
    days_off: frozenset[date]
    days_on: frozenset[date]
    first_year: int  # the years the library knows
    last_year: int
    library: str  # "chinese-calendar 1.11.0", as an admin upgrades it


@cache
def official(country: str) -> Official:
    """The library's calendar of ``country`` (``CN``, ``US``, ``DE-BY``)."""
    if country == CHINA:
        import chinese_calendar  # each library on first use: a start pays only for its own

        days_off = frozenset(chinese_calendar.holidays)
        days_on = frozenset(chinese_calendar.workdays)
        years = {day.year for day in days_off | days_on}
        return Official(
            days_off,
            days_on,
            min(years),
            max(years),
            f"chinese-calendar {version('chinese-calendar')}",
        )
    import holidays

    code, _, subdiv = country.partition("-")
    kind = type(holidays.country_holidays(code, subdiv=subdiv or None))
    first, last = max(kind.start_year, HOLIDAYS_YEARS.start), min(kind.end_year, HOLIDAYS_YEARS[-1])
    found = holidays.country_holidays(code, subdiv=subdiv or None, years=range(first, last + 1))
    return Official(
        frozenset(found.keys()),
        frozenset(found.weekend_workdays),
        first,
        last,
        f"holidays {version('holidays')}",
    )


def _country(value: Any) -> str:
    text = str(value).strip().upper()
    code, _, subdiv = text.partition("-")
    if text == CHINA:
        return text
    import holidays

    supported = holidays.list_supported_countries()
    if code == CHINA or code not in supported:
        raise ValueError(
            f"{value!r} is not a country whose working days Shipwatch knows; use a two-letter "
            "code like CN, US or DE (a region after a dash, like DE-BY, where it has its own)"
        )
    if not subdiv:
        return code
    regions = {region.upper(): region for region in supported[code]}
    if subdiv not in regions:
        raise ValueError(
            f"{value!r}: {code} has no region {subdiv}; use one of {', '.join(regions.values())}"
        )
    return f"{code}-{regions[subdiv]}"


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a day; write it like 2026-10-08") from None


Country = Annotated[str, BeforeValidator(_country)]
Day = Annotated[date, BeforeValidator(_day)]


class CalendarDays(BaseModel):
    """Days the config adds to the official calendar: ``holidays`` off (a company day,
    a working day taken back) and ``working_days`` worked (a holiday the team works, a
    调休 day the library does not list yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: list[Day] = Field(default_factory=list)
    working_days: list[Day] = Field(default_factory=list)

    @model_validator(mode="after")
    def _apart(self) -> CalendarDays:
        both = sorted(set(self.holidays) & set(self.working_days))
        if both:
            raise ValueError(
                f"{both[0].isoformat()} is both a holiday and a working day; keep it in one list"
            )
        return self

    def apply_to(self, calendar: WorkCalendar) -> WorkCalendar:
        return calendar.adjusted(days_off=self.holidays, days_on=self.working_days)


def work_calendar(country: str, *extra: CalendarDays) -> WorkCalendar:
    """``country``'s official working days, adjusted by each of ``extra`` in turn."""
    found = official(country)
    calendar = WorkCalendar(country=country, days_off=found.days_off, days_on=found.days_on)
    for days in extra:
        calendar = days.apply_to(calendar)
    return calendar


def unknown_year_warning(countries: Iterable[str], *, today: date) -> str | None:
    """One line naming the years ahead (this year, and the next once it is close) that the
    library does not know for any of ``countries``; None when it knows them all."""
    years = sorted({today.year, (today + LOOK_AHEAD).year})
    missing, libraries = [], []
    for country in sorted(set(countries)):
        found = official(country)
        unknown = [y for y in years if not found.first_year <= y <= found.last_year]
        if unknown:
            missing.append(
                f"{' and '.join(map(str, unknown))} for {country} ({found.library} knows "
                f"{found.first_year}–{found.last_year})"
            )
            libraries.append(found.library.split()[0])
    if not missing:
        return None
    return (
        f"the working calendar does not know {'; '.join(missing)}: until it does, Monday "
        "to Friday are working days there, with the holidays and working_days the config "
        f"lists; upgrade {' and '.join(sorted(set(libraries)))} once the year's holidays "
        "are published"
    )
