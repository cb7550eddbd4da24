"""When done rows are swept away. Pure: times are arguments.

Once a day at SWEEP_AT in the bot's timezone, a quiet hour for most teams; again a
minute later while a backlog is being cleared a batch at a time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

KEY = "housekeeping"
KIND = "housekeeping.sweep"
SWEEP_AT = time(4, 0)
AGAIN_SOON = timedelta(minutes=1)
DEFAULT_KEEP = timedelta(days=30)


def next_sweep(now: datetime, tz: tzinfo) -> datetime:
    """The first SWEEP_AT in ``tz`` after ``now``."""
    local = now.astimezone(tz)
    at = datetime.combine(local.date(), SWEEP_AT, tzinfo=tz)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), SWEEP_AT, tzinfo=tz)
    return at.astimezone(now.tzinfo)


def after_sweep(now: datetime, tz: tzinfo, *, more_left: bool) -> datetime:
    """When the next sweep runs: soon while a backlog is left, else the next SWEEP_AT."""
    return now + AGAIN_SOON if more_left else next_sweep(now, tz)
