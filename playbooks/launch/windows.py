"""Deploy windows and freezes: whether a release may start (or move on) now, and when the
next window opens. Days are the service's local days; ``now`` is a parameter.

A window on ``weekdays`` (Monday to Friday) opens on the working days of the team's
calendar, a 调休 Saturday included and a public holiday not; one on ``weekends`` (Saturday
and Sunday) opens on its days off. Windows on other days keep to those weekdays."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from playbooks import messages
from playbooks.business_time import WorkCalendar
from playbooks.launch.plan import (
    WEEKDAYS,
    WEEKENDS,
    Blackout,
    BlackoutPeriods,
    Window,
    WindowPolicy,
)
from playbooks.messages import Text, raw, t

# Far enough to cross a year-end blackout and a run of explicit freezes.
SEARCH_DAYS = 60


def _days_to_month_end(day: date) -> int:
    """0 on the last day of its month, 1 the day before, …"""
    first_of_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (first_of_next - day).days - 1


def _in_year_end(day: date, periods: BlackoutPeriods) -> bool:
    start, end = periods.year_end_from, periods.year_end_to
    here = (day.month, day.day)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end  # across New Year


def blackout_of(
    day: date, policy: WindowPolicy, *, freezes: Mapping[date, str] | None = None
) -> Text | None:
    """Why ``day`` is closed to deploys, or None. The most specific rule is named."""
    if freezes and day in freezes:
        return t("window.freeze_day", day=day.isoformat(), reason=raw(freezes[day]))
    rules, periods = policy.blackouts, policy.periods
    left = _days_to_month_end(day)
    if Blackout.YEAR_END in rules and _in_year_end(day, periods):
        return t("window.year_end", day=day.isoformat(), period=describe_year_end(periods))
    quarter = day.month in (3, 6, 9, 12)
    if quarter and Blackout.QUARTER_END in rules and left < periods.quarter_end_days:
        return t("window.quarter_end", day=day.isoformat(), days=periods.quarter_end_days)
    if Blackout.MONTH_END in rules and left < periods.month_end_days:
        return t("window.month_end", day=day.isoformat(), days=periods.month_end_days)
    return None


def describe_year_end(periods: BlackoutPeriods) -> str:
    (m1, d1), (m2, d2) = periods.year_end_from, periods.year_end_to
    return f"{m1:02d}-{d1:02d}..{m2:02d}-{d2:02d}"


def blackout_summary(policy: WindowPolicy) -> Text | None:
    """The blackout periods in force, as /release window shows them."""
    if not policy.blackouts:
        return None
    parts: list[Text] = []
    periods = policy.periods
    if Blackout.MONTH_END in policy.blackouts:
        parts.append(t("window.period.month_end", days=periods.month_end_days))
    if Blackout.QUARTER_END in policy.blackouts:
        parts.append(t("window.period.quarter_end", days=periods.quarter_end_days))
    if Blackout.YEAR_END in policy.blackouts:
        parts.append(t("window.period.year_end", period=describe_year_end(periods)))
    return t("window.blackouts", periods=_joined(parts))


def _joined(parts: list[Text]) -> Text:
    """Texts joined with "; " (each translated on its own)."""
    joined = parts[0]
    for part in parts[1:]:
        joined = t("window.and", first=joined, second=part)
    return joined


@dataclass(frozen=True, slots=True)
class Opening:
    opens: datetime
    closes: datetime


def _opens_on(window: Window, day: date, calendar: WorkCalendar) -> bool:
    if window.days == WEEKDAYS:
        return calendar.is_working_day(day)
    if window.days == WEEKENDS:
        return not calendar.is_working_day(day)
    return day.weekday() in window.days


def _openings_on(
    day: date, policy: WindowPolicy, tz: tzinfo, calendar: WorkCalendar
) -> list[Opening]:
    found = [
        Opening(
            datetime.combine(day, w.opens, tzinfo=tz), datetime.combine(day, w.closes, tzinfo=tz)
        )
        for w in policy.windows
        if _opens_on(w, day, calendar)
    ]
    return sorted(found, key=lambda o: o.opens)


@dataclass(frozen=True, slots=True)
class WindowCheck:
    open: bool
    current: Opening | None  # the window open now
    next: Opening | None  # the next one to open (after now)
    closed_because: Text | None  # today's blackout or freeze, if any


def check(
    policy: WindowPolicy,
    *,
    now: datetime,
    tz: tzinfo,
    freezes: Mapping[date, str] | None = None,
    windows_apply: bool = True,
    calendar: WorkCalendar | None = None,
) -> WindowCheck:
    """Open now? ``windows_apply`` False checks only explicit freezes (a plan without
    windows still honours a freeze someone declared). ``calendar``: the working days of
    the service's team (None: Monday to Friday)."""
    calendar = calendar or WorkCalendar()
    local = now.astimezone(tz)
    today = local.date()
    if not windows_apply:
        reason = (
            t("window.freeze_day", day=today.isoformat(), reason=raw(freezes[today]))
            if (freezes and today in freezes)
            else None
        )
        return WindowCheck(reason is None, None, _next_free_day(today, freezes, tz), reason)
    reason = blackout_of(today, policy, freezes=freezes)
    current = None
    if reason is None:
        current = next(
            (o for o in _openings_on(today, policy, tz, calendar) if o.opens <= local < o.closes),
            None,
        )
    if current is None and reason is None:
        reason = _day_off(today, policy, calendar)
    following = next_opening(policy, now=now, tz=tz, freezes=freezes, calendar=calendar)
    return WindowCheck(current is not None, current, following, reason)


def _day_off(day: date, policy: WindowPolicy, calendar: WorkCalendar) -> Text | None:
    """A weekday the working calendar gives off, where a weekday window would open: said,
    so a refusal on a holiday does not read as a clock misread."""
    weekday_windows = any(w.days == WEEKDAYS for w in policy.windows)
    if not weekday_windows or day.weekday() >= 5 or day not in calendar.days_off:
        return None
    if calendar.country:
        return t("window.day_off_in", day=day.isoformat(), country=calendar.country)
    return t("window.day_off", day=day.isoformat())


def _next_free_day(today: date, freezes: Mapping[date, str] | None, tz: tzinfo) -> Opening | None:
    day = today + timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        if not freezes or day not in freezes:
            start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            return Opening(start, start + timedelta(days=1))
        day += timedelta(days=1)
    return None


def next_opening(
    policy: WindowPolicy,
    *,
    now: datetime,
    tz: tzinfo,
    freezes: Mapping[date, str] | None = None,
    calendar: WorkCalendar | None = None,
) -> Opening | None:
    """The first window that opens after ``now`` on a day without a blackout."""
    local = now.astimezone(tz)
    day = local.date()
    for _ in range(SEARCH_DAYS):
        if blackout_of(day, policy, freezes=freezes) is None:
            for opening in _openings_on(day, policy, tz, calendar or WorkCalendar()):
                if opening.opens > local:
                    return opening
        day += timedelta(days=1)
    return None


def local_time(moment: datetime, *, tz: tzinfo, zone: str) -> str:
    """``2026-11-23 17:00 UTC+8``: a window as the service's people read it, shown the
    way every other time is."""
    return messages.local_time(moment, tz)


def refusal(result: WindowCheck, *, service: str, what: str, tz: tzinfo, zone: str) -> Text:
    """The sentence for a start or promotion outside a window."""
    why = result.closed_because or t("window.outside")
    if result.next is None:
        return t("window.refused_no_next", service=service, what=t(f"window.what.{what}"), why=why)
    return t(
        "window.refused",
        service=service,
        what=t(f"window.what.{what}"),
        why=why,
        next=local_time(result.next.opens, tz=tz, zone=zone),
    )


def upcoming_freezes(freezes: Collection[date], *, today: date) -> list[date]:
    return sorted(day for day in freezes if day >= today)
