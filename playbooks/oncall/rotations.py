"""Who is on call: rotations, their edits, overrides and swaps. Pure: ``at`` is a parameter.

A rotation hands over every ``length``, counted from ``start`` in the team's timezone.
Lengths of whole days are counted on the wall clock (a weekly handoff stays at Monday
09:00 local across a DST change); other lengths in elapsed hours. An edited rotation is
a new *version* effective from the moment it was first seen, so shifts before the edit
keep the version they were worked under.

On top of the rotation, a *swap* exchanges two people for a span (both layers), and an
*override* puts someone on a layer for a span; overrides win.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
from typing import Any

LAYERS = ("primary", "secondary")


@dataclass(frozen=True, slots=True)
class Rotation:
    participants: tuple[str, ...]
    start: datetime  # an aware datetime: the first handoff
    length: timedelta
    tz: tzinfo

    def to_json(self) -> dict[str, Any]:
        return {
            "participants": list(self.participants),
            "start": self.start.isoformat(),
            "length": self.length.total_seconds(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], tz: tzinfo) -> Rotation:
        return cls(
            participants=tuple(data["participants"]),
            start=datetime.fromisoformat(data["start"]),
            length=timedelta(seconds=data["length"]),
            tz=tz,
        )

    @property
    def wall_clock(self) -> bool:
        return self.length % timedelta(days=1) == timedelta(0)

    def handoff(self, k: int) -> datetime:
        """The k-th handoff (k = 0 is ``start``), in UTC."""
        if self.wall_clock:
            local = self.start.astimezone(self.tz).replace(tzinfo=None) + k * self.length
            return _aware(local, self.tz).astimezone(UTC)
        return self.start.astimezone(UTC) + k * self.length

    def index_at(self, at: datetime) -> int:
        """Which shift ``at`` falls in (negative before ``start``)."""
        at = at.astimezone(UTC)
        guess = int((at - self.handoff(0)) / self.length)
        while self.handoff(guess) > at:
            guess -= 1
        while self.handoff(guess + 1) <= at:
            guess += 1
        return guess

    def person_at(self, at: datetime) -> str | None:
        if not self.participants or at.astimezone(UTC) < self.handoff(0):
            return None
        return self.participants[self.index_at(at) % len(self.participants)]

    def boundaries(self, start: datetime, end: datetime) -> Iterable[datetime]:
        if not self.participants:
            return
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        k = max(self.index_at(start), 0)
        while (when := self.handoff(k)) < end:
            if when > start:
                yield when
            k += 1


def _aware(local: datetime, tz: tzinfo) -> datetime:
    """A wall-clock time in ``tz``; in a DST gap, the moment just after it."""
    value = local.replace(tzinfo=tz)
    roundtrip = value.astimezone(tz).replace(tzinfo=None)
    if roundtrip != local:  # 02:30 on a spring-forward night does not exist
        value = (local + timedelta(hours=1)).replace(tzinfo=tz)
    return value


@dataclass(frozen=True, slots=True)
class Version:
    """A rotation as configured from ``since`` on (until the next version)."""

    since: datetime
    rotation: Rotation


class ChangeKind(StrEnum):
    OVERRIDE = "override"
    SWAP = "swap"


@dataclass(frozen=True, slots=True)
class Change:
    """An override (``person`` takes ``layer``) or a swap (``person`` ⇄ ``other``)."""

    id: int
    kind: ChangeKind
    start: datetime
    end: datetime
    person: str
    other: str | None = None
    layer: str | None = None

    def covers(self, at: datetime) -> bool:
        at = at.astimezone(UTC)
        return self.start.astimezone(UTC) <= at < self.end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Shift:
    layer: str
    person: str | None
    start: datetime
    end: datetime
    change: Change | None = None  # the override or swap that put this person here


@dataclass(frozen=True, slots=True)
class Schedule:
    """One team's layers (each a list of versions, oldest first) and its changes."""

    team: str
    tz: tzinfo
    layers: Mapping[str, Sequence[Version]]
    changes: Sequence[Change] = field(default_factory=tuple)

    def rotation_at(self, layer: str, at: datetime) -> Rotation | None:
        current = None
        for version in self.layers.get(layer, ()):
            if version.since.astimezone(UTC) <= at.astimezone(UTC):
                current = version.rotation
        return current

    def who(self, layer: str, at: datetime) -> tuple[str | None, Change | None]:
        """Who holds ``layer`` at ``at``, and the override or swap that put them there."""
        rotation = self.rotation_at(layer, at)
        person = rotation.person_at(at) if rotation else None
        cause: Change | None = None
        for change in self.changes:
            if change.kind is ChangeKind.SWAP and change.covers(at) and person is not None:
                if person == change.person:
                    person, cause = change.other, change
                elif person == change.other:
                    person, cause = change.person, change
        for change in self.changes:
            if (
                change.kind is ChangeKind.OVERRIDE
                and change.covers(at)
                and change.layer in (None, layer)
            ):
                person, cause = change.person, change
        return person, cause

    def boundaries(self, layer: str, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in (start, end) where who holds ``layer`` may change."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        points: set[datetime] = set()
        versions = list(self.layers.get(layer, ()))
        for index, version in enumerate(versions):
            until = versions[index + 1].since if index + 1 < len(versions) else end
            since = version.since.astimezone(UTC)
            lo, hi = max(start, since), min(end, until.astimezone(UTC))
            if lo < hi:
                points.update(version.rotation.boundaries(lo, hi))
            if start < since < end:
                points.add(since)
        for change in self.changes:
            for when in (change.start.astimezone(UTC), change.end.astimezone(UTC)):
                if start < when < end:
                    points.add(when)
        return sorted(points)

    def shifts(self, layer: str, start: datetime, end: datetime) -> list[Shift]:
        """The shifts of ``layer`` over [start, end), adjacent equal ones merged."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        edges = [start, *self.boundaries(layer, start, end), end]
        shifts: list[Shift] = []
        for lo, hi in pairwise(edges):
            person, cause = self.who(layer, lo)
            if shifts and shifts[-1].person == person and shifts[-1].change == cause:
                shifts[-1] = Shift(layer, person, shifts[-1].start, hi, cause)
            else:
                shifts.append(Shift(layer, person, lo, hi, cause))
        return shifts

    def current(self, layer: str, at: datetime, *, horizon: timedelta) -> Shift:
        """The shift holding ``layer`` at ``at``, with its true end (within ``horizon``)."""
        return self.shifts(layer, at, at + horizon)[0]

    def participants(self, at: datetime) -> set[str]:
        people: set[str] = set()
        for layer in self.layers:
            rotation = self.rotation_at(layer, at)
            if rotation:
                people.update(rotation.participants)
        return people
