"""The shipped launch drill, as a new user runs it: prepared, its first traffic held by the
pre-launch checklist and then the deploy window, the final stage by a NO-GO, progress
every 30 minutes, then the day-1/3/7 checks."""

from __future__ import annotations

import re

from tests.fakes.drill import run_drill


def test_the_launch_drill_stops_at_every_gate_and_follows_up() -> None:
    out = run_drill("launch-miniprogram.txt")
    # /release window shows the blackout periods (seed 004: month, quarter and year ends).
    assert (
        "Blackouts: the last 3 days of each month; the last 5 days of each quarter; "
        "year end 12-20..01-03." in out
    )
    # Started at 16:00 in Shanghai: prepared, no traffic, the checklist before the first 1%.
    assert "alice prepared miniapp 2.1.0 with plan gray-miniprogram: no traffic yet." in out
    assert "(required before internal): ☐ open" in out
    # A go with required checks open: one sentence naming them, nothing moves.
    refused = out.split(">>> #releases\nNot moving miniapp's first traffic", 1)[1]
    refused = refused.split(">>>", 1)[0]
    assert refused.startswith(" (stage internal, 1%) until its 4 open required checks")
    assert refused.count(" · ") == 4
    assert "☑ Item 1 ticked by @alice: Database backup tested" in out
    # Checked, but 16:00 is outside the window: judged at go, the next one named.
    assert (
        "Not letting miniapp move its first traffic: it is outside the deploy windows. "
        "The next window opens 2026-11-23 17:00 UTC+8." in out
    )
    # 17:15 (T+1:15, the gray config step): the first traffic moves, then the stages.
    assert "alice moved the first traffic of miniapp 2.1.0: stage internal, 1% of traffic." in out
    assert out.index("Not moving miniapp's first traffic") < out.index("moved the first traffic")
    assert "alice promoted miniapp 2.1.0 from 1% to 5% (stage small)." in out
    assert "alice promoted miniapp 2.1.0 from 5% to 20% (stage large)." in out
    # A NO-GO blocks the final stage; a GO lets it through.
    assert "55% → NO-GO" in out
    assert "Not promoting miniapp (at 20%):\nGo/No-Go is NO-GO (55% by @alice" in out
    assert "100% → GO" in out
    assert "miniapp 2.1.0 is fully released (100%). Done by alice." in out
    # Progress while in gray (from the go at 17:15 in Shanghai, 30 hours), never while
    # prepared: looked at every 30 virtual minutes, said when it changed (a step falling
    # overdue, a stage, a guard's verdict), else backed off (30m, 1h, 2h, …).
    assert "📊 Progress" not in out.split("moved the first traffic")[0]
    before_done = out.split("is fully released")[0]
    times = re.findall(
        r"📊 Progress of miniapp 2\.1\.0.*?\n.*?\nNext update when.*?\n"
        r"  crash_rate_stop \(> 0\.1%\): ok: [^ ]+ "
        r"(?:. )?at 2026-11-2\d (\d\d:\d\d) UTC",
        before_done,
    )
    assert times[:6] == [f"{9 + m // 60:02d}:{m % 60:02d}" for m in range(45, 196, 30)]
    later = ["13:15", "15:15", "15:45", "16:15", "17:15", "19:15", "23:15", "07:15", "15:15"]
    assert times[6:] == later
    assert "📊 Progress" not in out.split("is fully released")[1]
    # The runbook counts from the start (T): a reminder, marks, and overdue steps called out.
    assert "⏱ Runbook step 3 of miniapp is due: Database migrations run" in out
    assert "2 steps overdue." in out
    # Seed 004's timeline in its order: backups before T, gray config at T+1:15 (the go),
    # 100% at T+48h.
    assert "  1. T-1:00 (2026-11-23 07:00 UTC) Backups taken, everyone told" in out
    assert "  5. T+1:15 (2026-11-23 09:15 UTC) Gray release configured (the first batch)" in out
    assert "✅ done by @alice at 2026-11-23 09:15 UTC — first batch: 1%" in out
    assert "  8. T+48:00 (2026-11-25 08:00 UTC) Full release, if the tests passed" in out
    assert "Runbook step 1 of miniapp is due" not in out  # before T: listed, not announced
    # A step is one post mentioning its owners, with one set of buttons; only an owner who
    # is not in #releases (dave, by people.yaml) gets a copy of his own.
    dba = "⏱ Runbook step 3 of miniapp is due: Database migrations run · 数据库迁移 — @carol (dba)."
    assert out.count(dba) == 1
    assert f">>> #releases\n{dba}\n[Done]" in out
    devops = "⏱ Runbook step 4 of miniapp is due: Code deployed, services restarted"
    assert out.count(devops) == 2
    assert f">>> @dave\n{devops}" in out
    # After completion: day 1, day 3 and day 7, in order, with their items.
    after = out.split("is fully released")[1]
    days = re.findall(r"🗓 Day-(\d) check of miniapp 2\.1\.0", after)
    assert days == ["1", "3", "7"]
    assert "☐ Next version planned · 下一版本计划制定" in after
    # Deterministic: the same story twice.
    assert run_drill("launch-miniprogram.txt") == out
