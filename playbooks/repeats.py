"""When a repeating message (a release's progress report, an incident's call for a status
update, an ack reminder) speaks again. Pure: times are arguments.

Said once; then again at once when what it says has changed, else backed off: after
``every``, then twice that, four times, … up to ``CAP``. Once the thing it is about waits
on a person (a release parked at a stage whose watch is over, or paused), it keeps quiet
until something changes or the cap has passed. Every one it says names the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# A day: an unchanged thing is said at most once a day once it has waited that long, as
# often as the shipped daily report, which lists what is still open anyway.
CAP = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Said:
    """What a repeating message last said (its substance, not its clock) and when; how
    many times in a row it was said unchanged."""

    substance: str
    at: datetime
    repeats: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"substance": self.substance, "at": self.at.isoformat(), "repeats": self.repeats}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Said | None:
        if not data:
            return None
        return cls(str(data["substance"]), datetime.fromisoformat(data["at"]), int(data["repeats"]))


def gap(repeats: int, *, every: timedelta, cap: timedelta = CAP) -> timedelta:
    """The wait before saying the same thing for the ``repeats + 1``-th time."""
    return min(every * (2 ** min(repeats, 20)), max(cap, every))


@dataclass(frozen=True, slots=True)
class Turn:
    speak: bool  # say it now (anew, or edited in place where the platform edits)
    said: Said  # what to remember
    next_at: datetime  # when it speaks next unless something changes first


def turn(
    last: Said | None,
    *,
    substance: str,
    now: datetime,
    every: timedelta,
    waiting: bool = False,
    cap: timedelta = CAP,
) -> Turn:
    """Whether to speak now, with ``substance`` what the message would say."""
    if last is None or last.substance != substance:
        said = Said(substance, now)
    else:
        due = last.at + (max(cap, every) if waiting else gap(last.repeats, every=every, cap=cap))
        if now < due:
            return Turn(False, last, due)
        said = Said(substance, now, last.repeats + 1)
    wait = max(cap, every) if waiting else gap(said.repeats, every=every, cap=cap)
    return Turn(True, said, now + wait)
