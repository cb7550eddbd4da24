"""The launch part of ``plans/*.yaml``: checklist, Go/No-Go matrix, deploy windows,
progress posts, follow-ups and the launch-day runbook."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.config.zone import OptionalZone
from commands.core.grammar import parse_duration
from playbooks.errors import UsageError
from playbooks.launch.plan import (
    DEFAULT_DIMENSIONS,
    DEFAULT_WINDOWS,
    WEEKDAYS,
    WEEKENDS,
    Blackout,
    BlackoutPeriods,
    ChecklistItem,
    Comparison,
    Dimension,
    FollowUp,
    GoNoGoPolicy,
    LaunchPlan,
    RunbookStep,
    Window,
    WindowGate,
    WindowPolicy,
)

_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_OFFSET = re.compile(r"^T([+-])(?:(\d+)h)?(?:(\d+):(\d{2}))?$|^T([+-])(\d+)m$")


def _clock(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day; write it like 17:00") from None


def _days(value: Any) -> frozenset[int]:
    words = [value] if isinstance(value, str) else list(value)
    days: set[int] = set()
    for word in words:
        text = str(word).strip().lower()
        if text == "weekdays":
            days |= WEEKDAYS
        elif text == "weekends":
            days |= WEEKENDS
        elif text[:3] in _DAYS:
            days.add(_DAYS[text[:3]])
        else:
            raise ValueError(f"{word!r} is not a day; use weekdays, weekends, or mon … sun")
    return frozenset(days)


def _offset(value: Any) -> timedelta:
    """``T+0:30``, ``T+1:05``, ``T+48h``, ``T+90m``, a duration like ``30m``, or a time
    before T: ``T-1h``, ``T-0:30`` (seed 004's backups an hour before)."""
    text = str(value).strip()
    match = _OFFSET.match(text)
    if match and any(g for g in match.groups() if g not in ("+", "-", None)):
        sign, hours, h2, m2, sign_m, minutes = match.groups()
        if minutes is not None:
            return timedelta(minutes=int(minutes)) * (-1 if sign_m == "-" else 1)
        span = timedelta(hours=int(hours or 0) + int(h2 or 0), minutes=int(m2 or 0))
        return -span if sign == "-" else span
    try:
        return parse_duration(text.removeprefix("T+"))
    except UsageError:
        raise ValueError(
            f"{value!r} is not a time from T; write it like T+0:30, T+48h or T-1h"
        ) from None


def _every(value: Any) -> timedelta | None:
    if value is False or value is None:
        return None
    if value is True:
        return timedelta(minutes=30)
    try:
        return parse_duration(str(value))
    except UsageError:
        raise ValueError(
            f"{value!r} is not a duration; write it like 30m, or true for 30m"
        ) from None


def _switch(value: Any) -> Any:
    """``windows: true`` is the default windows; ``false`` none."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


def _year_end(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """``12-20..01-03``: from one month-day to another, across New Year if need be."""
    if isinstance(value, tuple):
        return value
    match = re.fullmatch(r"\s*(\d{2})-(\d{2})\s*\.\.\s*(\d{2})-(\d{2})\s*", str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a period; write it like 12-20..01-03")
    m1, d1, m2, d2 = (int(g) for g in match.groups())
    for month, day in ((m1, d1), (m2, d2)):
        try:
            date(2024, month, day)  # a leap year: 02-29 is a day
        except ValueError:
            raise ValueError(f"{month:02d}-{day:02d} is not a day of the year") from None
    return (m1, d1), (m2, d2)


_PEAKS = BlackoutPeriods()
Clock = Annotated[time, BeforeValidator(_clock)]
YearEnd = Annotated[tuple[tuple[int, int], tuple[int, int]], BeforeValidator(_year_end)]
Days = Annotated[frozenset[int], BeforeValidator(_days)]
Offset = Annotated[timedelta, BeforeValidator(_offset)]
Every = Annotated[timedelta | None, BeforeValidator(_every)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ItemEntry(_Strict):
    text: str = Field(min_length=1, max_length=300)
    required: bool = False
    before: str | None = None


class DimensionEntry(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    label: str = Field(default="", max_length=100)
    weight: float = Field(gt=0, le=100)
    target: str = Field(pattern=r"^\s*(>=|<=|>|<|=)\s*-?\d+(\.\d+)?\s*%?\s*$")
    count: bool = False  # whole numbers only (open bugs), not a percentage

    def to_dimension(self) -> Dimension:
        match = re.match(r"^\s*(>=|<=|>|<|=)\s*(-?\d+(?:\.\d+)?)", self.target)
        assert match is not None
        return Dimension(
            self.name,
            self.label or self.name,
            self.weight,
            Comparison(match[1]),
            float(match[2]),
            count=self.count,
        )


class GoNoGoEntry(_Strict):
    required: bool = False
    approve_review: bool = False  # a release manager may approve a REVIEW (seed: assess again)
    go_at: float = Field(default=85, ge=0, le=100)
    review_at: float = Field(default=70, ge=0, le=100)
    dimensions: list[DimensionEntry] | None = None

    def to_policy(self) -> GoNoGoPolicy:
        dims = (
            tuple(d.to_dimension() for d in self.dimensions)
            if self.dimensions is not None
            else DEFAULT_DIMENSIONS
        )
        return GoNoGoPolicy(
            dims, self.go_at, self.review_at, self.required, approve_review=self.approve_review
        )


class WindowEntry(_Strict):
    days: Days
    opens: Clock = Field(alias="from")
    closes: Clock = Field(alias="to")


class WindowsEntry(_Strict):
    gate: WindowGate = WindowGate.START
    timezone: OptionalZone = None
    allowed: list[WindowEntry] | None = None
    blackout: list[Blackout] = Field(default_factory=lambda: list(Blackout))
    # How long each peak lasts (seed 004 names the peaks, not their days).
    month_end_days: int = Field(default=_PEAKS.month_end_days, ge=1, le=15)
    quarter_end_days: int = Field(default=_PEAKS.quarter_end_days, ge=1, le=31)
    year_end: YearEnd = (_PEAKS.year_end_from, _PEAKS.year_end_to)

    def to_policy(self) -> WindowPolicy:
        windows = (
            tuple(Window(w.days, w.opens, w.closes) for w in self.allowed)
            if self.allowed is not None
            else DEFAULT_WINDOWS
        )
        periods = BlackoutPeriods(
            self.month_end_days, self.quarter_end_days, self.year_end[0], self.year_end[1]
        )
        return WindowPolicy(self.gate, windows, frozenset(self.blackout), self.timezone, periods)


class FollowUpEntry(_Strict):
    day: int = Field(ge=1, le=90)
    items: list[str] = Field(default_factory=list)


class StepEntry(_Strict):
    at: Offset
    step: str = Field(min_length=1, max_length=300)
    owner: str = Field(default="owner", pattern=r"^(owner|@?[a-z0-9][a-z0-9._-]{0,63})$")


class LaunchEntries(_Strict):
    """The launch keys a plan file may carry, beside its stages and guards."""

    checklist: list[ItemEntry] = Field(default_factory=list)
    gonogo: GoNoGoEntry = GoNoGoEntry()
    windows: Annotated[WindowsEntry | None, BeforeValidator(_switch)] = None
    progress: Every = None
    followups: list[FollowUpEntry] = Field(default_factory=list)
    runbook: list[StepEntry] = Field(default_factory=list)

    def _windows(self) -> WindowPolicy:
        return self.windows.to_policy() if self.windows is not None else WindowPolicy()

    def to_launch(self) -> LaunchPlan:
        return LaunchPlan(
            checklist=tuple(ChecklistItem(i.text, i.required, i.before) for i in self.checklist),
            gonogo=self.gonogo.to_policy(),
            windows=self._windows(),
            progress_every=self.progress,
            followups=tuple(
                FollowUp(f.day, tuple(f.items)) for f in sorted(self.followups, key=lambda f: f.day)
            ),
            runbook=tuple(
                RunbookStep(s.at, s.step, s.owner) for s in sorted(self.runbook, key=lambda s: s.at)
            ),
        )
