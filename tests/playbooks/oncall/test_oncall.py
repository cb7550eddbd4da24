"""Shift computation: weekly handoffs in Shanghai, DST in New York, overrides, swaps, and
rotation edits that never rewrite past shifts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playbooks.oncall.rotations import Change, ChangeKind, Rotation, Schedule, Version

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
WEEK = timedelta(weeks=1)


def weekly(tz: ZoneInfo, *people: str, start: datetime) -> Rotation:
    return Rotation(tuple(people), start, WEEK, tz)


def web(*changes: Change) -> Schedule:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)  # Monday
    return Schedule(
        "web",
        SH,
        {
            "primary": [Version(start, weekly(SH, "bob", "carol", start=start))],
            "secondary": [Version(start, weekly(SH, "carol", "bob", start=start))],
        },
        changes,
    )


def test_the_example_team_bob_primary_carol_secondary_then_swapping_weekly() -> None:
    s = web()
    first_week = datetime(2026, 11, 25, 15, tzinfo=SH)
    assert s.who("primary", first_week) == ("bob", None)
    assert s.who("secondary", first_week) == ("carol", None)
    # The handoff is Monday 09:00 Shanghai, to the second.
    before = datetime(2026, 11, 30, 8, 59, 59, tzinfo=SH)
    after = datetime(2026, 11, 30, 9, tzinfo=SH)
    assert s.who("primary", before)[0] == "bob"
    assert s.who("primary", after)[0] == "carol"
    assert s.who("secondary", after)[0] == "bob"
    assert s.who("primary", datetime(2026, 12, 7, 9, tzinfo=SH))[0] == "bob"
    # Before the rotation starts nobody is on call.
    assert s.who("primary", datetime(2026, 11, 23, 8, tzinfo=SH)) == (None, None)


def test_shifts_list_the_handoffs_and_the_current_shift_its_true_end() -> None:
    s = web()
    now = datetime(2026, 11, 24, 12, tzinfo=SH)
    shifts = s.shifts("primary", now, now + timedelta(days=14))
    assert [(x.person, x.start.astimezone(SH).day) for x in shifts] == [
        ("bob", 24),
        ("carol", 30),
        ("bob", 7),
    ]
    assert s.current("primary", now, horizon=timedelta(days=60)).end == datetime(
        2026, 11, 30, 9, tzinfo=SH
    )


def test_a_weekly_handoff_stays_at_local_nine_across_dst() -> None:
    # New York leaves daylight saving on Sunday 2026-11-01.
    start = datetime(2026, 10, 26, 9, tzinfo=NY)
    rotation = weekly(NY, "ann", "ben", start=start)
    assert rotation.handoff(0).astimezone(UTC) == datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert rotation.handoff(1).astimezone(UTC) == datetime(2026, 11, 2, 14, tzinfo=UTC)
    assert rotation.handoff(1).astimezone(NY).hour == 9
    # One elapsed week after the first handoff is 08:00 local: still ann's shift.
    assert rotation.person_at(datetime(2026, 11, 2, 8, 30, tzinfo=NY)) == "ann"
    assert rotation.person_at(datetime(2026, 11, 2, 9, tzinfo=NY)) == "ben"
    # Spring forward (2027-03-14): daily handoffs at 02:30 fall in the gap, and come
    # at the first moment that exists instead.
    daily = Rotation(("ann", "ben"), datetime(2027, 3, 12, 2, 30, tzinfo=NY), timedelta(days=1), NY)
    assert daily.handoff(2).astimezone(NY).replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)
    assert daily.handoff(3).astimezone(NY).replace(tzinfo=None) == datetime(2027, 3, 15, 2, 30)


def test_hours_are_counted_as_elapsed_time() -> None:
    start = datetime(2026, 10, 31, 21, tzinfo=NY)
    rotation = Rotation(("ann", "ben"), start, timedelta(hours=12), NY)
    # Across the extra hour of 2026-11-01 the 12h shift ends at 08:00 local, not 09:00.
    assert rotation.handoff(1).astimezone(NY).hour == 8
    assert rotation.handoff(1) - rotation.handoff(0) == timedelta(hours=12)


def test_an_override_wins_for_its_span_only() -> None:
    start = datetime(2026, 11, 25, 9, tzinfo=SH)
    end = datetime(2026, 11, 26, 9, tzinfo=SH)
    override = Change(1, ChangeKind.OVERRIDE, start, end, "dave", layer="primary")
    s = web(override)
    assert s.who("primary", start) == ("dave", override)
    assert s.who("primary", end)[0] == "bob"
    assert s.who("secondary", start)[0] == "carol"  # another layer is untouched
    now = datetime(2026, 11, 24, 9, tzinfo=SH)
    shifts = s.shifts("primary", now, now + timedelta(days=3))
    assert [(x.person, x.change is not None) for x in shifts] == [
        ("bob", False),
        ("dave", True),
        ("bob", False),
    ]


def test_a_swap_trades_places_on_every_layer() -> None:
    day = datetime(2026, 11, 27, tzinfo=SH)
    swap = Change(2, ChangeKind.SWAP, day, day + timedelta(days=1), "bob", other="carol")
    s = web(swap)
    noon = day + timedelta(hours=12)
    assert s.who("primary", noon) == ("carol", swap)
    assert s.who("secondary", noon) == ("bob", swap)
    assert s.who("primary", day + timedelta(days=1))[0] == "bob"
    # An override on top of a swap wins.
    override = Change(3, ChangeKind.OVERRIDE, noon, noon + timedelta(hours=1), "dave")
    assert web(swap, override).who("primary", noon)[0] == "dave"


def test_an_edit_takes_effect_from_when_it_was_made_and_never_rewrites_the_past() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=SH)
    edited_at = datetime(2026, 12, 2, 12, tzinfo=SH)
    old = weekly(SH, "bob", "carol", start=start)
    new = weekly(SH, "erin", "bob", start=datetime(2026, 12, 7, 9, tzinfo=SH))
    s = Schedule("web", SH, {"primary": [Version(start, old), Version(edited_at, new)]})
    # Past shifts keep the old rotation; the new one starts where it says.
    assert s.who("primary", datetime(2026, 11, 24, tzinfo=SH))[0] == "bob"
    assert s.who("primary", datetime(2026, 12, 1, tzinfo=SH))[0] == "carol"
    assert s.who("primary", datetime(2026, 12, 3, tzinfo=SH))[0] is None  # not started yet
    assert s.who("primary", datetime(2026, 12, 8, tzinfo=SH))[0] == "erin"
    shifts = s.shifts(
        "primary", datetime(2026, 11, 30, 9, tzinfo=SH), datetime(2026, 12, 14, tzinfo=SH)
    )
    assert [x.person for x in shifts] == ["carol", None, "erin"]
