"""When a repeating message speaks again: once, then what changed, else backed off."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from playbooks import repeats
from playbooks.repeats import CAP, Said, turn

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
M = timedelta(minutes=1)
EVERY = 30 * M


def spoken(*, until: timedelta, substance: str = "same", waiting: bool = False) -> list[int]:
    """The minutes (from T0) at which a check every 30 minutes speaks."""
    said: Said | None = None
    at: list[int] = []
    now = T0
    while now <= T0 + until:
        result = turn(said, substance=substance, now=now, every=EVERY, waiting=waiting)
        if result.speak:
            at.append(int((now - T0) / M))
        said = result.said
        now += EVERY
    return at


def test_the_same_thing_is_said_again_ever_less_often_up_to_a_day() -> None:
    minutes = spoken(until=timedelta(days=3))
    assert minutes[:7] == [0, 30, 90, 210, 450, 930, 1890]
    assert [b - a for a, b in itertools.pairwise(minutes[6:])] == [24 * 60]
    assert repeats.gap(30, every=EVERY) == CAP


def test_a_change_is_said_at_once_and_starts_the_count_over() -> None:
    first = turn(None, substance="in stage", now=T0, every=EVERY)
    quiet = turn(first.said, substance="in stage", now=T0 + 30 * M, every=EVERY)
    assert quiet.speak
    assert quiet.next_at == T0 + 90 * M
    held = turn(quiet.said, substance="in stage", now=T0 + 60 * M, every=EVERY)
    assert not held.speak
    assert held.next_at == T0 + 90 * M
    assert held.said == quiet.said
    changed = turn(held.said, substance="soaked", now=T0 + 60 * M, every=EVERY)
    assert changed.speak
    assert changed.said == Said("soaked", T0 + 60 * M, 0)
    assert changed.next_at == T0 + 90 * M


def test_waiting_on_a_person_keeps_quiet_until_the_cap() -> None:
    assert spoken(until=timedelta(days=2), waiting=True) == [0, 24 * 60, 48 * 60]
    result = turn(None, substance="parked", now=T0, every=EVERY, waiting=True)
    assert result.next_at == T0 + CAP


def test_what_was_said_survives_a_timer_payload() -> None:
    said = Said("x", T0, 3)
    assert Said.from_json(said.to_json()) == said
    assert Said.from_json(None) is None
