"""Follow-up action rules: due dates, when the owner is reminded, what blocks closing, and
how a week of actions reads in a report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from playbooks.effects import ArmTimer, CancelTimer, DirectMessage
from playbooks.errors import InvalidTransition, UsageError
from playbooks.incidents import actions as rules
from playbooks.incidents.actions import Action, ActionState

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
TODAY = date(2026, 11, 23)


def action(**changes: object) -> Action:
    base = Action(
        id=3,
        incident_id=7,
        text="add a canary",
        owner="bob",
        priority="P1",
        state=ActionState.OPEN,
        created_at=NOW,
        created_by="carol",
        due=date(2026, 11, 25),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_due_date_is_a_day_or_days_from_today_never_one_past() -> None:
    assert rules.parse_due("2026-11-30", today=TODAY) == date(2026, 11, 30)
    assert rules.parse_due("3d", today=TODAY) == date(2026, 11, 26)
    assert rules.parse_due("2w", today=TODAY) == date(2026, 12, 7)
    assert rules.parse_due("2026-11-23", today=TODAY) == TODAY
    with pytest.raises(UsageError) as past:
        rules.parse_due("2026-11-22", today=TODAY)
    assert past.value.text.key == "action.due_past"
    with pytest.raises(UsageError) as bad:
        rules.parse_due("friday", today=TODAY)
    assert bad.value.text.key == "action.bad_due"
    with pytest.raises(UsageError) as far:
        rules.parse_due("2028-01-01", today=TODAY)
    assert far.value.text.key == "action.due_far"


def test_reminders_fall_the_day_before_on_the_day_then_weekly_at_nine() -> None:
    a = action()
    before = datetime(2026, 11, 24, 9, tzinfo=SHANGHAI)
    on_day = datetime(2026, 11, 25, 9, tzinfo=SHANGHAI)
    assert rules.next_reminder(a, tz=SHANGHAI, now=NOW) == before
    assert rules.next_reminder(a, tz=SHANGHAI, now=before) == on_day
    assert rules.next_reminder(a, tz=SHANGHAI, now=on_day) == on_day + timedelta(days=7)
    # Down for three weeks: the next one is the next weekly one after now, not a backlog.
    late = on_day + timedelta(days=20)
    assert rules.next_reminder(a, tz=SHANGHAI, now=late) == on_day + timedelta(days=21)
    assert rules.next_reminder(replace(a, due=None), tz=SHANGHAI, now=NOW) is None
    closed = replace(a, state=ActionState.DONE)
    assert rules.next_reminder(closed, tz=SHANGHAI, now=NOW) is None


def test_an_action_due_today_added_after_nine_is_next_reminded_a_week_on() -> None:
    a = action(due=TODAY)
    at = rules.next_reminder(a, tz=SHANGHAI, now=NOW + timedelta(hours=2))
    assert at == datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)


def test_adding_tells_the_owner_and_arms_the_first_reminder() -> None:
    out = rules.add(
        action(), incident_title="checkout 500", tz=SHANGHAI, now=NOW, here_is_owner=False
    )
    told = [e for e in out.effects if isinstance(e, DirectMessage)]
    armed = [e for e in out.effects if isinstance(e, ArmTimer)]
    assert [d.person for d in told] == ["bob"]
    assert [(a.key, a.due_at) for a in armed] == [
        ("incident-action:3", datetime(2026, 11, 24, 9, tzinfo=SHANGHAI))
    ]
    assert out.timeline[0].kind == "action"
    mine = rules.add(action(), incident_title="x", tz=SHANGHAI, now=NOW, here_is_owner=True)
    assert not any(isinstance(e, DirectMessage) for e in mine.effects)


def test_a_reminder_says_how_the_action_stands_now_and_arms_the_next() -> None:
    on_day = datetime(2026, 11, 25, 9, tzinfo=SHANGHAI)
    effects = rules.remind(action(), tz=SHANGHAI, now=on_day + timedelta(days=7))
    told = effects[0]
    assert isinstance(told, DirectMessage)
    assert told.message.blocks[0].params["due"].key == "action.overdue"  # type: ignore[union-attr]
    assert isinstance(effects[1], ArmTimer)
    assert effects[1].due_at == on_day + timedelta(days=14)
    assert rules.remind(action(state=ActionState.DROPPED), tz=SHANGHAI, now=on_day) == []


def test_done_and_drop_cancel_the_reminders_and_happen_once() -> None:
    out = rules.done(action(), actor="bob", now=NOW, note="shipped")
    assert out.action.state is ActionState.DONE
    assert out.action.closed_by == "bob"
    assert out.effects == [CancelTimer("incident-action:3")]
    with pytest.raises(InvalidTransition):
        rules.drop(out.action, actor="bob", now=NOW, reason="no")
    dropped = rules.drop(action(), actor="carol", now=NOW, reason="superseded")
    assert (dropped.action.state, dropped.action.note) == (ActionState.DROPPED, "superseded")


def test_open_p0_and_p1_actions_block_closing() -> None:
    found = [
        action(id=1, priority="P0"),
        action(id=2, priority="P2"),
        action(id=3, priority="P1", state=ActionState.DONE),
        action(id=4, priority="P1"),
    ]
    assert [a.id for a in rules.blocking(found)] == [1, 4]
    assert rules.numbers(rules.blocking(found)) == "#1, #4"


def test_a_week_of_actions_counts_open_overdue_and_closed_in_the_week() -> None:
    start, end = NOW - timedelta(days=7), NOW
    found = [
        action(id=1, due=date(2026, 11, 20)),  # overdue
        action(id=2, due=date(2026, 11, 30)),
        action(id=3, state=ActionState.DONE, closed_at=NOW - timedelta(days=1)),
        action(id=4, state=ActionState.DONE, closed_at=NOW - timedelta(days=9)),  # before
    ]
    week = rules.week_of(found, start=start, end=end, today=TODAY)
    assert [a.id for a in week.open] == [1, 2]
    assert [a.id for a in week.overdue] == [1]
    assert [a.id for a in week.closed] == [3]
    blocks = rules.report_blocks(week, today=TODAY)
    assert blocks[0].params == {"open": 2, "overdue": 1, "closed": 1}
    assert [b.params["n"] for b in blocks[1:]] == [1, 3]
