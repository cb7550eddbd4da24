"""The shipped reports drill: the shipped config subscribes #ops, and the morning post,
the evening report and the weekly report arrive at their virtual times, once each, with
a chart."""

from __future__ import annotations

import re

from tests.fakes.drill import run_drill


def _segments(output: str) -> list[str]:
    """The output up to each ``:advance``'s end, and what follows the last one."""
    return re.split(r"^-- The clock is now .*$", output, flags=re.MULTILINE)


def _posts(segment: str) -> list[str]:
    return [p for p in segment.split(">>> ") if p.strip()]


def test_the_reports_drill() -> None:
    output = run_drill("reports.txt")
    first_day, morning, week, after = _segments(output)
    before, _, evening = first_day.partition("-- Simulated guards named active_users now fail")

    # Subscribed by the shipped summaries.yaml, with no command.
    assert "3 report subscriptions here:" in before
    # A week without follow-up actions has no line saying so.
    assert "Follow-up actions" not in output
    assert "Response figures over the week:" in week
    assert "#1 morning health post at 09:00 (Asia/Shanghai), all services" in before
    assert "next 2026-11-24 09:00 UTC+8" in before
    assert "#3 weekly report at fri 17:00 (Asia/Shanghai)" in before
    assert "☀️" not in before, "nothing is posted before its time"
    assert "📋" not in before

    # 16:00 Monday: @alice is asked for the sections nobody gave yet.
    assert (
        ">>> @alice\nThe evening daily report is at 2026-11-23 09:00 UTC; "
        "not given yet: feedback." in first_day
    )
    # 17:00 Monday: one evening report, and only that.
    reports = [p for p in _posts(evening) if "report —" in p or "health post —" in p]
    assert len(reports) == 1
    report = reports[0]
    assert report.startswith("#ops\n📋 Daily report — 2026-11-23 (Asia/Shanghai)\n")
    for line in (
        "  ❌ Error rate: 1.50% (target < 0.50%)",
        "  ✅ SLA core 99.9%: met, 99.93% over the period",  # seed 002: web is core
        "  ⚪ Active users: no data — exporter unreachable",
        "Incidents: 1 opened (P0 0 · P1 0 · P2 0 · P3 1), 0 resolved",
        "Releases: 0 completed, 1 rolled back",
        "Main problems:\n  1. web 2.0.0 rolled back: crash rate above 0.1%",
        "User feedback:\n  not given",
        "Tomorrow's plan:\n  - rebuild the search index overnight (@alice)",
        "  • Average response time: 45 ms",
        "  • Errors: 12",
    ):
        assert line in report
    assert re.search(r"^\[chart\] http://127\.0\.0\.1:8080/charts/[a-z0-9]+\.png$", report, re.M)

    # 09:00 Tuesday: exactly one morning post, with every section of the daily template.
    assert morning.count("☀️ Morning health post") == 1
    assert "📋" not in morning
    for section in (
        "☀️ Morning health post — 2026-11-24 (Asia/Shanghai)\nSystem status (last 24h):\nweb:",
        "  ✅ Error rate: 0.12% (target < 0.50%)",
        "Open incidents: 0 (P0 0 · P1 0 · P2 0 · P3 0)",
        "Releases in progress: 0",
        "On call today:\n  web · Primary: @bob\n  web · Secondary: @carol",
        "Yesterday: 1 new incident(s), 1 resolved",
        "  resolved [P3] #1 Search is slow (in 8h)",
        "[chart] http://127.0.0.1:8080/charts/",
    ):
        assert section in morning

    # A week on: one weekly report on Friday the 27th, seven mornings, seven evenings.
    assert week.count("📊 Weekly report") == 1
    assert "📊 Weekly report — 2026-W48, 2026-11-20 to 2026-11-27 (Asia/Shanghai)" in week
    assert week.count("☀️ Morning health post") == 7
    assert week.count("📋 Daily report") == 7
    weekly = next(p for p in _posts(week) if "📊 Weekly report" in p)
    assert "Mean time to resolve: 8h (over 1)" in weekly
    assert "[chart] " in weekly
    # The weekly report comes after Friday's evening report and before Saturday's morning.
    assert week.index("📋 Daily report — 2026-11-27") < week.index("📊 Weekly report")
    assert week.index("📊 Weekly report") < week.index("☀️ Morning health post — 2026-11-28")
    assert "last posted (2026-11-27 17:00 UTC+8)" in after
