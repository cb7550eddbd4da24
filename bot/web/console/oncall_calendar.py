"""The on-call page's calendar: weeks from Monday in the viewer's timezone, a table per
week with a column per day and a row per layer, each day's shifts cut to that day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from playbooks.oncall.rotations import ChangeKind, Shift

WEEKS = 4


@dataclass(frozen=True, slots=True)
class Piece:
    """A shift's part of one day: who, from and until when within the day (None: the day's
    edge), and the override or swap that put them there."""

    person: str | None
    starts: time | None
    ends: time | None
    change: ChangeKind | None


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    today: bool
    layers: Mapping[str, tuple[Piece, ...]]


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    days: tuple[Day, ...]


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def span(now: datetime, tz: tzinfo, weeks: int = WEEKS) -> tuple[date, datetime, datetime]:
    """The first Monday shown (this week's, in ``tz``) and the instants the calendar covers."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return monday, _midnight(monday, tz), _midnight(monday + timedelta(weeks=weeks), tz)


def weeks(
    shifts: Mapping[str, Sequence[Shift]],
    *,
    now: datetime,
    tz: tzinfo,
    count: int = WEEKS,
) -> tuple[Week, ...]:
    monday, _, _ = span(now, tz, count)
    today = now.astimezone(tz).date()
    result = []
    for w in range(count):
        first = monday + timedelta(weeks=w)
        days = []
        for d in range(7):
            day = first + timedelta(days=d)
            lo, hi = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
            layers = {
                layer: tuple(
                    _piece(s, lo, hi, tz) for s in layer_shifts if s.start < hi and s.end > lo
                )
                for layer, layer_shifts in shifts.items()
            }
            days.append(Day(day, day == today, layers))
        result.append(Week(first, tuple(days)))
    return tuple(result)


def _piece(shift: Shift, lo: datetime, hi: datetime, tz: tzinfo) -> Piece:
    starts = shift.start.astimezone(tz).time() if shift.start > lo else None
    ends = shift.end.astimezone(tz).time() if shift.end < hi else None
    change = shift.change.kind if shift.change is not None else None
    return Piece(shift.person, starts, ends, change)
