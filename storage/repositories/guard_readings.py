"""Guard readings as kept for the release page: every reading, each minute's and each
quarter hour's lowest and highest, and a series read back already cut into buckets (one
per pixel column) by the database, so a week of 5-second readings never crosses into
Python point by point.

A chart reads the coarsest of these that is still finer than one of its columns: the
readings themselves for a span of hours, the minutes for a day, the quarters for a week
(672 rows per guard instead of 120,960)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert
from sqlmodel import Session, and_, col, or_, select

from storage.models import GuardRange, GuardReading

# The spans a reading's range is also kept over, in seconds.
WIDTHS = (60, 900)
_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Bucket:
    """The lowest and highest reading between ``start`` and the next bucket's start."""

    start: datetime
    low: float
    high: float


def _second(at: datetime) -> int:
    return int(at.timestamp())


def add(session: Session, *, release_id: int, guard: str, at: datetime, value: float) -> None:
    """Keep one reading, and widen its minute's and quarter's range (in the caller's
    transaction, which holds the release: no two writers of one release's ranges)."""
    add_all(session, release_id=release_id, at=at, values={guard: value})


def add_all(
    session: Session, *, release_id: int, at: datetime, values: Mapping[str, float]
) -> None:
    """Keep the readings ``values`` (by guard) taken at ``at`` as ``add`` does each, with
    one read of the ranges they widen for them all: a release's guards are read together,
    and a read of each range apart (with the flush before it) was most of a tick's cost."""
    if not values:
        return
    second = _second(at)
    starts = {width: second - second % width for width in WIDTHS}
    kept = session.exec(
        select(GuardRange).where(
            GuardRange.release_id == release_id,
            col(GuardRange.guard).in_(list(values)),
            or_(
                *(and_(GuardRange.width == w, GuardRange.at_second == s) for w, s in starts.items())
            ),
        )
    ).all()
    ranges = {(found.guard, found.width): found for found in kept}
    for guard, value in values.items():
        session.add(GuardReading(release_id=release_id, guard=guard, at_second=second, value=value))
        for width, start in starts.items():
            found = ranges.get((guard, width))
            if found is None:
                session.add(
                    GuardRange(
                        release_id=release_id,
                        guard=guard,
                        width=width,
                        at_second=start,
                        low=value,
                        high=value,
                    )
                )
            elif value < found.low or value > found.high:
                found.low = min(found.low, value)
                found.high = max(found.high, value)
                session.add(found)


def backfill(
    session: Session, *, release_id: int, guard: str, readings: Sequence[tuple[int, float]]
) -> None:
    """Keep many readings of a guard at once (second since the epoch, value), in bulk: for
    a span none of whose ranges is kept yet (a week of readings written for a benchmark,
    or readings brought over from elsewhere)."""
    ranges: dict[tuple[int, int], tuple[float, float]] = {}
    for second, value in readings:
        for width in WIDTHS:
            key = (width, second - second % width)
            low, high = ranges.get(key, (value, value))
            ranges[key] = (min(low, value), max(high, value))
    rows = [
        {"release_id": release_id, "guard": guard, "at_second": second, "value": value}
        for second, value in readings
    ]
    for at in range(0, len(rows), _BATCH):
        session.execute(insert(GuardReading), rows[at : at + _BATCH])
    session.execute(
        insert(GuardRange),
        [
            {
                "release_id": release_id,
                "guard": guard,
                "width": width,
                "at_second": start,
                "low": low,
                "high": high,
            }
            for (width, start), (low, high) in ranges.items()
        ],
    )


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
    width = (last - first) // buckets + 1  # seconds: ``last`` falls in the last bucket
    coarsest = max((w for w in WIDTHS if w <= width), default=None)
    if coarsest is None:
        at, low, high = col(GuardReading.at_second), col(GuardReading.value), None
        where = [GuardReading.release_id == release_id, GuardReading.guard == guard]
    else:
        at, low, high = col(GuardRange.at_second), col(GuardRange.low), col(GuardRange.high)
        where = [
            GuardRange.release_id == release_id,
            GuardRange.guard == guard,
            GuardRange.width == coarsest,
        ]
        first -= first % coarsest  # the range holding ``start`` begins at or before it
    index = ((at - first) // width).label("bucket")  # integer division on both databases
    query = (
        select(index, func.min(low), func.max(high if high is not None else low))
        .where(*where, at >= first, at <= last)
        .group_by(index)
        .order_by(index)
    )
    # Plain rows through the session's connection: the ORM's handling of 656 result rows
    # cost more than the query itself.
    rows = session.connection().execute(query).all()
    origin = datetime.fromtimestamp(first, tz=UTC)
    step = timedelta(seconds=width)
    return [
        Bucket(start=origin + int(number) * step, low=float(lowest), high=float(highest))
        for number, lowest, highest in rows
    ]
