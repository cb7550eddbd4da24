"""A report's own jitter offset is when it is meant to fire: it never makes it missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playbooks.effects import Conversation
from playbooks.reports.metrics import SummarySettings
from playbooks.reports.schedule import Cadence, ReportKind, jitter
from playbooks.reports.subscriptions import Subscription, arm_next, due_run

M = timedelta(minutes=1)
SETTINGS = SummarySettings(grace=10 * M, jitter=10 * M)


def subscription() -> Subscription:
    # One whose offset is most of the grace window.
    sid = next(n for n in range(1, 500) if jitter(n, spread=SETTINGS.jitter) >= 8 * M)
    return Subscription(
        sid, Conversation("console", "#ops"), ReportKind.DAILY, Cadence(9, 0), UTC, ()
    )


def test_a_report_a_little_late_past_its_jitter_offset_is_not_missed() -> None:
    sub = subscription()
    _, timer = arm_next(sub, after=datetime(2026, 11, 23, 8, tzinfo=UTC), settings=SETTINGS)
    run = due_run(sub, now=timer.due_at + 3 * M, settings=SETTINGS)
    assert not run.missed
    assert run.late_by is not None  # three minutes past its own time is late, and says so
    past = due_run(sub, now=timer.due_at + 11 * M, settings=SETTINGS)
    assert past.missed
