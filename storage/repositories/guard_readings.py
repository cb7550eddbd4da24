"""Guard readings as kept for the release page: every reading, each minute's lowest and
highest, and a series read back already cut into buckets (one per pixel column) by the
database, so a week of 5-second readings never crosses into Python point by point.

A chart of a short span reads the readings themselves; a longer one reads the minutes
(a week: 10,080 rows per guard instead of 120,960)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import GuardMinute, GuardReading

# Up to this many readings' worth of span, a chart reads the readings themselves.
RAW_SPAN = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Bucket:
    """The lowest and highest reading between ``start`` and the next bucket's start."""

    start: datetime
    low: float
    high: float


def _second(at: datetime) -> int:
    return int(at.timestamp())


def add(session: Session, *, release_id: int, guard: str, at: datetime, value: float) -> None:
    """Keep one reading, and widen its minute's range (in the caller's transaction, which
    holds the release: no two writers of one release's minute)."""
    second = _second(at)
    session.add(GuardReading(release_id=release_id, guard=guard, at_second=second, value=value))
    minute = session.get(GuardMinute, (release_id, guard, second // 60))
    if minute is None:
        session.add(
            GuardMinute(
                release_id=release_id, guard=guard, at_minute=second // 60, low=value, high=value
            )
        )
    elif value < minute.low or value > minute.high:
        minute.low = min(minute.low, value)
        minute.high = max(minute.high, value)
        session.add(minute)


def series(
    session: Session,
    *,
    release_id: int,
    guard: str,
    start: datetime,
    end: datetime,
    buckets: int,
) -> list[Bucket]:
    """The guard's readings from ``start`` to ``end`` as at most ``buckets`` buckets of
    equal width, oldest first; a bucket without readings is left out (a gap)."""
    first, last = _second(start), max(_second(end), _second(start) + 1)
    if last - first <= RAW_SPAN.total_seconds():
        width = (last - first) // buckets + 1  # seconds: ``last`` falls in the last bucket
        rows = _buckets(session, GuardReading, release_id, guard, first, last, width)
    else:
        width_m = (last // 60 - first // 60) // buckets + 1  # minutes
        rows = _buckets(session, GuardMinute, release_id, guard, first // 60, last // 60, width_m)
        width = width_m * 60
        first = first // 60 * 60
    return [
        Bucket(
            start=datetime.fromtimestamp(first + int(index) * width, tz=UTC),
            low=float(low),
            high=float(high),
        )
        for index, low, high in rows
    ]


def _buckets(
    session: Session,
    table: type[GuardReading] | type[GuardMinute],
    release_id: int,
    guard: str,
    first: int,
    last: int,
    width: int,
) -> Sequence[tuple[int, float, float]]:
    if table is GuardReading:
        at, low, high = col(GuardReading.at_second), col(GuardReading.value), None
    else:
        at, low, high = col(GuardMinute.at_minute), col(GuardMinute.low), col(GuardMinute.high)
    index = ((at - first) // width).label("bucket")  # integer division on both databases
    query = (
        select(index, func.min(low), func.max(high if high is not None else low))
        .where(
            col(table.release_id) == release_id,
            col(table.guard) == guard,
            at >= first,
            at <= last,
        )
        .group_by(index)
        .order_by(index)
    )
    return session.exec(query).all()
