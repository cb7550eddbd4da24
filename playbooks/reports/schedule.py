"""When reports run: a wall-clock time (and weekday) in a timezone, exact across DST.

Cron semantics: a time that does not exist on a spring-forward night runs just after
the gap; a time that happens twice on a fall-back night runs at the first of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from playbooks.errors import UsageError
from playbooks.messages import t

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_AT = re.compile(r"^(?:(?P<day>[a-z]+)\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})$")


class ReportKind(StrEnum):
    DAILY = "daily"  # the morning health post
    EVENING = "evening"  # the daily report at the end of the working day
    WEEKLY = "weekly"


DEFAULT_AT = {
    ReportKind.DAILY: "09:00",
    ReportKind.EVENING: "17:00",
    ReportKind.WEEKLY: "fri 17:00",
}


@dataclass(frozen=True, slots=True)
class Cadence:
    """Every day (``weekday`` None) or every week on ``weekday`` (0 is Monday) at hh:mm."""

    hour: int
    minute: int
    weekday: int | None = None

    def describe(self) -> str:
        clock = f"{self.hour:02d}:{self.minute:02d}"
        return clock if self.weekday is None else f"{WEEKDAYS[self.weekday]} {clock}"


def parse_at(text: str, *, kind: ReportKind) -> Cadence:
    """``09:00`` for a daily report; ``fri 17:00`` (or ``17:00``, a Friday) for a weekly one."""
    words = " ".join(text.strip().lower().split())
    match = _AT.fullmatch(words)
    if match is None:
        raise UsageError(t(f"summary.bad_at.{_form(kind)}", value=text))
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise UsageError(t(f"summary.bad_at.{_form(kind)}", value=text))
    day = match["day"]
    if kind is not ReportKind.WEEKLY:
        if day is not None:
            raise UsageError(
                t("summary.daily_with_day", value=text, kind=t(f"summary.kind.{kind}"))
            )
        return Cadence(hour, minute)
    if day is None:
        return Cadence(hour, minute, WEEKDAYS.index("fri"))
    if day in WEEKDAYS:
        return Cadence(hour, minute, WEEKDAYS.index(day))
    if day in _FULL_DAYS:
        return Cadence(hour, minute, _FULL_DAYS.index(day))
    raise UsageError(t("summary.bad_day", value=day, days=", ".join(WEEKDAYS)))


def _form(kind: ReportKind) -> str:
    return "weekly" if kind is ReportKind.WEEKLY else "daily"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(t("summary.bad_tz", value=name)) from None


def local_instant(day: date, clock: time, tz: tzinfo) -> datetime:
    """The wall-clock time ``clock`` on ``day`` in ``tz``, in UTC: just after a DST gap,
    the first of two in a fold."""
    local = datetime.combine(day, clock)
    value = local.replace(tzinfo=tz, fold=0)
    if value.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        # Not a time that happens that day: the first moment after the gap.
        after = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
        before = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
        gap_end = max(after, before)
        while gap_end.astimezone(tz).replace(tzinfo=None) > local:
            gap_end -= timedelta(minutes=1)
        return gap_end + timedelta(minutes=1)
    return value.astimezone(UTC)


def _on(cadence: Cadence, day: date, tz: tzinfo) -> datetime | None:
    if cadence.weekday is not None and day.weekday() != cadence.weekday:
        return None
    return local_instant(day, time(cadence.hour, cadence.minute), tz)


def next_run(cadence: Cadence, *, after: datetime, tz: tzinfo) -> datetime:
    """The first run strictly after ``after``."""
    start = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(9):
        when = _on(cadence, start + timedelta(days=offset), tz)
        if when is not None and when > after:
            return when
    raise AssertionError("a cadence runs at least once a week")


def last_run(cadence: Cadence, *, at: datetime, tz: tzinfo) -> datetime:
    """The latest run at or before ``at``."""
    start = at.astimezone(tz).date() + timedelta(days=1)
    for offset in range(9):
        when = _on(cadence, start - timedelta(days=offset), tz)
        if when is not None and when <= at:
            return when
    raise AssertionError("a cadence runs at least once a week")


def period_key(kind: ReportKind, scheduled_at: datetime, tz: tzinfo) -> str:
    """The period a run reports on: its local date, or its ISO week for a weekly report."""
    local = scheduled_at.astimezone(tz).date()
    if kind is ReportKind.WEEKLY:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.isoformat()


def period(kind: ReportKind, at: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """What a report at ``at`` covers: the morning post yesterday (local midnight to
    midnight), the evening report today so far, the weekly report the seven days before."""
    local = at.astimezone(tz)
    midnight = local_instant(local.date(), time(0, 0), tz)
    if kind is ReportKind.DAILY:
        return local_instant(local.date() - timedelta(days=1), time(0, 0), tz), midnight
    if kind is ReportKind.EVENING:
        return midnight, at
    week_ago = local_instant(local.date() - timedelta(days=7), local.time(), tz)
    return week_ago, at


def jitter(subscription_id: int, *, spread: timedelta) -> timedelta:
    """A fixed offset within ``spread`` per subscription, so sends spread off the hour
    (some platforms throttle on-the-hour bursts) yet stay predictable."""
    seconds = int(spread.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    return timedelta(seconds=(subscription_id * 7919) % (seconds + 1))
