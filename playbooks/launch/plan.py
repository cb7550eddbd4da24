"""What a plan says about coordinating a launch: checklist, Go/No-Go matrix, deploy
windows, progress posts, follow-ups and the launch-day runbook. Snapshotted with the plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """``before``: the stage the release may not enter until a required item is ticked
    (None: the first stage, so the release waits, prepared, for ``/release go``)."""

    text: str
    required: bool = False
    before: str | None = None


class Comparison(StrEnum):
    ABOVE = ">"
    AT_LEAST = ">="
    EQUAL = "="
    AT_MOST = "<="
    BELOW = "<"


@dataclass(frozen=True, slots=True)
class Dimension:
    """One row of the Go/No-Go matrix: met when ``value <op> target``."""

    name: str
    label: str
    weight: float
    op: Comparison
    target: float
    count: bool = False  # a number of things (open bugs): whole numbers only

    def met_by(self, value: float) -> bool:
        return {
            Comparison.ABOVE: value > self.target,
            Comparison.AT_LEAST: value >= self.target,
            Comparison.EQUAL: value == self.target,
            Comparison.AT_MOST: value <= self.target,
            Comparison.BELOW: value < self.target,
        }[self.op]


# Seed 000's 评估标准 (Go/No-Go决策矩阵).
DEFAULT_DIMENSIONS = (
    Dimension("functional", "功能完整性 functional completeness", 30, Comparison.ABOVE, 95),
    Dimension("performance", "性能达标率 performance on target", 25, Comparison.ABOVE, 90),
    Dimension("stability", "稳定性 stability", 25, Comparison.ABOVE, 99),
    Dimension("satisfaction", "用户满意度 user satisfaction", 15, Comparison.ABOVE, 80),
    Dimension("blockers", "无P0/P1 bug open P0/P1 bugs", 5, Comparison.EQUAL, 0, count=True),
)


@dataclass(frozen=True, slots=True)
class GoNoGoPolicy:
    dimensions: tuple[Dimension, ...] = DEFAULT_DIMENSIONS
    go_at: float = 85.0
    review_at: float = 70.0
    required: bool = False  # GO (or an approved REVIEW) before the final stage
    # Seed 000: a REVIEW means fix what was missed and assess again. A release manager's
    # approval through to full rollout is an exception a plan may switch on.
    approve_review: bool = False


class WindowGate(StrEnum):
    OFF = "off"
    START = "start"
    STAGES = "stages"  # /release start and every promotion


class Blackout(StrEnum):
    MONTH_END = "month_end"
    QUARTER_END = "quarter_end"
    YEAR_END = "year_end"


@dataclass(frozen=True, slots=True)
class Window:
    """Open on ``days`` (0 Monday … 6 Sunday) from ``opens`` to ``closes``, local time."""

    days: frozenset[int]
    opens: time
    closes: time


WEEKDAYS = frozenset(range(5))
WEEKENDS = frozenset({5, 6})
# Seed 004's 部署时间窗口: weekdays 17:00–18:00, weekends 10:00–11:00.
DEFAULT_WINDOWS = (
    Window(WEEKDAYS, time(17), time(18)),
    Window(WEEKENDS, time(10), time(11)),
)


@dataclass(frozen=True, slots=True)
class BlackoutPeriods:
    """How long each business peak seed 004 says to avoid lasts. Shipwatch's choice (the
    seed gives no days): the last 3 days of a month, the last 5 of a quarter (closing the
    books), and 20 December to 3 January (year-end closing and the holidays)."""

    month_end_days: int = 3
    quarter_end_days: int = 5
    year_end_from: tuple[int, int] = (12, 20)  # (month, day), inclusive
    year_end_to: tuple[int, int] = (1, 3)


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    gate: WindowGate = WindowGate.OFF
    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    blackouts: frozenset[Blackout] = frozenset(Blackout)
    timezone: str | None = None  # None: the service's team's, else Shipwatch's
    periods: BlackoutPeriods = field(default_factory=BlackoutPeriods)


@dataclass(frozen=True, slots=True)
class RunbookStep:
    at: timedelta  # after the release starts
    text: str
    owner: str  # "owner", a role name, or "@handle"


@dataclass(frozen=True, slots=True)
class FollowUp:
    day: int
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    checklist: tuple[ChecklistItem, ...] = ()
    gonogo: GoNoGoPolicy = field(default_factory=GoNoGoPolicy)
    windows: WindowPolicy = field(default_factory=WindowPolicy)
    progress_every: timedelta | None = None
    followups: tuple[FollowUp, ...] = ()
    runbook: tuple[RunbookStep, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "checklist": [
                {"text": i.text, "required": i.required, "before": i.before} for i in self.checklist
            ],
            "gonogo": {
                "go_at": self.gonogo.go_at,
                "review_at": self.gonogo.review_at,
                "required": self.gonogo.required,
                "approve_review": self.gonogo.approve_review,
                "dimensions": [
                    {
                        "name": d.name,
                        "label": d.label,
                        "weight": d.weight,
                        "op": d.op.value,
                        "target": d.target,
                        "count": d.count,
                    }
                    for d in self.gonogo.dimensions
                ],
            },
            "windows": {
                "gate": self.windows.gate.value,
                "timezone": self.windows.timezone,
                "blackouts": sorted(b.value for b in self.windows.blackouts),
                "periods": {
                    "month_end_days": self.windows.periods.month_end_days,
                    "quarter_end_days": self.windows.periods.quarter_end_days,
                    "year_end_from": list(self.windows.periods.year_end_from),
                    "year_end_to": list(self.windows.periods.year_end_to),
                },
                "windows": [
                    {
                        "days": sorted(w.days),
                        "opens": w.opens.isoformat("minutes"),
                        "closes": w.closes.isoformat("minutes"),
                    }
                    for w in self.windows.windows
                ],
            },
            "progress_every": (
                self.progress_every.total_seconds() if self.progress_every is not None else None
            ),
            "followups": [{"day": f.day, "items": list(f.items)} for f in self.followups],
            "runbook": [
                {"at": s.at.total_seconds(), "text": s.text, "owner": s.owner} for s in self.runbook
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> LaunchPlan:
        if not data:
            return cls()
        gonogo, windows = data["gonogo"], data["windows"]
        every = data.get("progress_every")
        return cls(
            checklist=tuple(
                ChecklistItem(i["text"], bool(i["required"]), i["before"])
                for i in data["checklist"]
            ),
            gonogo=GoNoGoPolicy(
                dimensions=tuple(
                    Dimension(
                        d["name"],
                        d["label"],
                        d["weight"],
                        Comparison(d["op"]),
                        d["target"],
                        count=bool(d.get("count", False)),
                    )
                    for d in gonogo["dimensions"]
                ),
                go_at=gonogo["go_at"],
                review_at=gonogo["review_at"],
                required=bool(gonogo["required"]),
                # A release snapshotted before this switch existed could approve a REVIEW.
                approve_review=bool(gonogo.get("approve_review", True)),
            ),
            windows=WindowPolicy(
                gate=WindowGate(windows["gate"]),
                timezone=windows["timezone"],
                blackouts=frozenset(Blackout(b) for b in windows["blackouts"]),
                periods=_periods(windows.get("periods")),
                windows=tuple(
                    Window(
                        frozenset(w["days"]),
                        time.fromisoformat(w["opens"]),
                        time.fromisoformat(w["closes"]),
                    )
                    for w in windows["windows"]
                ),
            ),
            progress_every=timedelta(seconds=every) if every is not None else None,
            followups=tuple(FollowUp(f["day"], tuple(f["items"])) for f in data["followups"]),
            runbook=tuple(
                RunbookStep(timedelta(seconds=s["at"]), s["text"], s["owner"])
                for s in data["runbook"]
            ),
        )


def _periods(data: Mapping[str, Any] | None) -> BlackoutPeriods:
    if not data:
        # A release snapshotted before the periods were configurable kept the last day only.
        return BlackoutPeriods(1, 1, (12, 31), (12, 31))
    return BlackoutPeriods(
        int(data["month_end_days"]),
        int(data["quarter_end_days"]),
        (int(data["year_end_from"][0]), int(data["year_end_from"][1])),
        (int(data["year_end_to"][0]), int(data["year_end_to"][1])),
    )


def launch_problems(launch: LaunchPlan, *, stages: tuple[str, ...]) -> list[tuple[str, str]]:
    """What is wrong with a plan's launch settings, as (field, sentence) pairs."""
    problems: list[tuple[str, str]] = []
    lowered = [s.lower() for s in stages]
    for index, item in enumerate(launch.checklist):
        if item.before is None:
            continue
        where = f"checklist[{index}].before"
        if item.before.lower() not in lowered:
            problems.append((where, f"there is no stage {item.before!r}; stages: {stages}"))
    names = [d.name for d in launch.gonogo.dimensions]
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append(
                (f"gonogo.dimensions[{index}].name", f"{name!r} is listed twice; name each once")
            )
    weights = sum(d.weight for d in launch.gonogo.dimensions)
    if launch.gonogo.dimensions and abs(weights - 100) > 1e-6:
        problems.append(("gonogo.dimensions", f"the weights add up to {weights:g}, not 100"))
    if not launch.gonogo.review_at <= launch.gonogo.go_at:
        problems.append(("gonogo.review_at", "review_at must not be above go_at"))
    for index, window in enumerate(launch.windows.windows):
        if window.opens >= window.closes:
            problems.append((f"windows.allowed[{index}]", "a window must close after it opens"))
        for other_index, other in enumerate(launch.windows.windows[:index]):
            overlap = window.days & other.days
            if overlap and window.opens < other.closes and other.opens < window.closes:
                problems.append(
                    (
                        f"windows.allowed[{index}]",
                        f"overlaps windows.allowed[{other_index}] on the same days; "
                        "merge them or make them disjoint",
                    )
                )
    days = [f.day for f in launch.followups]
    for index, day in enumerate(days):
        if day in days[:index]:
            problems.append((f"followups[{index}].day", f"day {day} is listed twice"))
    return problems
