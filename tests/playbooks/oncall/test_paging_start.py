"""A new page, decided without a database: held for the team's working hours or paged at
once, and its notifications and ack reminders marked as spending the page budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playbooks.business_time import WorkCalendar, WorkingHours
from playbooks.effects import DirectMessage
from playbooks.oncall.paging import (
    Page,
    PageState,
    direct_policy,
    escalate_due,
    held_until,
    remind,
)

SH = ZoneInfo("Asia/Shanghai")
HOURS = WorkingHours(tz=SH)
SATURDAY = datetime(2026, 11, 28, 10, tzinfo=SH)
MONDAY_NINE = datetime(2026, 11, 30, 9, tzinfo=SH)
TUESDAY = datetime(2026, 12, 1, 11, tzinfo=SH)
P3_WAITS = frozenset({"P3"})


def test_a_page_of_a_deferred_severity_waits_for_the_next_working_morning() -> None:
    until = held_until(now=SATURDAY, hours=HOURS, severity="P3", defer_outside_hours=P3_WAITS)
    assert until == MONDAY_NINE


def test_a_severity_the_team_does_not_defer_pages_now() -> None:
    assert (
        held_until(now=SATURDAY, hours=HOURS, severity="P1", defer_outside_hours=P3_WAITS) is None
    )
    assert (
        held_until(now=SATURDAY, hours=HOURS, severity=None, defer_outside_hours=P3_WAITS) is None
    )


def test_a_page_asked_to_hold_waits_whatever_its_severity() -> None:
    assert held_until(now=SATURDAY, hours=HOURS, severity="P0", hold=True) == MONDAY_NINE


def test_in_working_hours_nothing_is_held() -> None:
    assert held_until(now=TUESDAY, hours=HOURS, severity="P3", defer_outside_hours=P3_WAITS) is None
    assert held_until(now=TUESDAY, hours=HOURS, severity="P3", hold=True) is None


def test_a_page_of_no_team_is_never_held() -> None:
    assert held_until(now=SATURDAY, hours=None, severity="P3", hold=True) is None


def test_the_working_morning_keeps_to_the_teams_calendar() -> None:
    # Monday 30 November a holiday in the team's calendar: the page waits for Tuesday.
    holiday = WorkCalendar(days_off=frozenset({date(2026, 11, 30)}))
    hours = WorkingHours(tz=SH, calendar=holiday)
    until = held_until(now=SATURDAY, hours=hours, severity="P2", hold=True)
    assert until == datetime(2026, 12, 1, 9, tzinfo=SH)


def test_a_pages_notification_and_its_ack_reminder_spend_the_page_budget() -> None:
    p = Page(1, "db down", PageState.OPEN, direct_policy("bob"), TUESDAY, "alice")
    notified = escalate_due(p, now=TUESDAY, resolve=lambda step: step.value, channel=None)
    [notify] = [e for e in notified.effects if isinstance(e, DirectMessage)]
    assert notify.person == "bob"
    assert notify.spends_page_budget
    acked = replace(notified.page, state=PageState.ACKNOWLEDGED, acked_by="bob", acked_at=TUESDAY)
    reminded = remind(acked, now=TUESDAY + timedelta(minutes=30), every=timedelta(minutes=30))
    [reminder] = [e for e in reminded.effects if isinstance(e, DirectMessage)]
    assert reminder.person == "bob"
    assert reminder.spends_page_budget
