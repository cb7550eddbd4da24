"""The on-call calendar's layout: weeks from Monday in the viewer's timezone, each day's
shifts cut to that day, an override and a swap marked where they fall."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.web.console.oncall_calendar import span, weeks
from playbooks.oncall.rotations import Change, ChangeKind, Rotation, Schedule, Version

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def schedule(*changes: Change) -> Schedule:
    rotation = Rotation(("bob", "carol"), START, timedelta(weeks=1), SHANGHAI)
    return Schedule("web", SHANGHAI, {"primary": [Version(START, rotation)]}, changes)


def shifts(plan: Schedule, now: datetime, tz: ZoneInfo) -> dict[str, list]:  # type: ignore[type-arg]
    _, since, until = span(now, tz)
    return {"primary": plan.shifts("primary", since, until)}


def test_four_weeks_from_monday_with_the_handoff_inside_its_day() -> None:
    now = START + timedelta(days=2)  # Wednesday
    shown = weeks(shifts(schedule(), now, SHANGHAI), now=now, tz=SHANGHAI)
    assert [w.monday for w in shown] == [date(2026, 11, 23) + timedelta(weeks=k) for k in range(4)]
    assert all(len(w.days) == 7 for w in shown)
    assert [d.today for d in shown[0].days] == [False, False, True, False, False, False, False]
    monday_next = shown[1].days[0].layers["primary"]
    assert [(p.person, p.starts, p.ends) for p in monday_next] == [
        ("bob", None, time(9)),
        ("carol", time(9), None),
    ]
    assert [(p.person, p.starts, p.ends) for p in shown[1].days[1].layers["primary"]] == [
        ("carol", None, None)
    ]


def test_the_viewers_timezone_moves_the_handoff_and_the_weeks() -> None:
    now = START + timedelta(days=2)
    shown = weeks(shifts(schedule(), now, NEW_YORK), now=now, tz=NEW_YORK)
    # Monday 09:00 in Shanghai is Sunday 20:00 in New York.
    assert shown[0].monday == date(2026, 11, 23)
    sunday = shown[0].days[6].layers["primary"]
    assert [(p.person, p.starts, p.ends) for p in sunday] == [
        ("bob", None, time(20)),
        ("carol", time(20), None),
    ]


def test_an_override_and_a_swap_are_marked_on_their_days() -> None:
    override = Change(
        1,
        ChangeKind.OVERRIDE,
        datetime(2026, 11, 24, 1, tzinfo=UTC),
        datetime(2026, 11, 24, 13, tzinfo=UTC),
        "dave",
        layer="primary",
    )
    swap = Change(
        2,
        ChangeKind.SWAP,
        datetime(2026, 12, 1, 16, tzinfo=UTC),  # 2 December in Shanghai
        datetime(2026, 12, 2, 16, tzinfo=UTC),
        "bob",
        other="carol",
    )
    now = START
    shown = weeks(shifts(schedule(override, swap), now, SHANGHAI), now=now, tz=SHANGHAI)
    tuesday = shown[0].days[1].layers["primary"]
    assert [(p.person, p.starts, p.ends, p.change) for p in tuesday] == [
        ("bob", None, time(9), None),
        ("dave", time(9), time(21), ChangeKind.OVERRIDE),
        ("bob", time(21), None, None),
    ]
    wednesday = shown[1].days[2].layers["primary"]
    assert [(p.person, p.change) for p in wednesday] == [("bob", ChangeKind.SWAP)]
