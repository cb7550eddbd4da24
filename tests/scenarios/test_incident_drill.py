"""The shipped P0 drill: three clocks (respond, start handling, resolve), a missed respond
deadline, management and users told ahead of their deadlines, the release freeze, update
reminders that stop at resolve, and a postmortem drawn from the timeline."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_p0_drill() -> None:
    out = run_drill("incident-p0.txt")
    assert "Proposed severity: P1." in out
    assert ">>> #tech\n🚨 Incident #1 [P0] opened by @alice: checkout returns 500." in out
    breach = "⏰ Nobody acknowledged incident #1 [P0] checkout returns 500 by 2026-11-23 01:05 UTC"
    assert f">>> #incidents\n{breach}" in out
    assert "Not letting web start: incident #1 (P0) is open on it: checkout returns 500." in out
    assert "Forced by @alice past what held it: the checkout fix" in out
    # alice and bob are in #incidents (people.yaml): the news there is not sent them again.
    assert f">>> @alice\n{breach}" not in out
    assert ">>> #incidents\nIncident #1: @bob is now scribe (set by @alice)." in out
    assert ">>> @bob\nIncident #1: @bob is now scribe" not in out
    # The automatic pause is said once, with why.
    assert out.count("paused web") == 1
    assert "Shipwatch paused web: guard error_rate_stop has had no data since" in out
    # A runbook step is one post in #releases; its owner (carol, there) gets no copy.
    step = "⏱ Runbook step 2 of web is due: Database backed up · 数据库备份 — @carol (dba)."
    assert out.count(step) == 1
    assert "incident #1 (P0) is open on this service: checkout returns 500" in out
    assert "Acknowledged: by @alice at 2026-11-23 01:06 UTC" in out
    # Asked for an update at +30m once (before the update reset it), never after resolve.
    assert out.count("time for a status update") == 1
    clocks = (
        "Respond by 2026-11-23 01:05 UTC, start handling by 2026-11-23 01:15 UTC, "
        "resolve by 2026-11-23 05:00 UTC."
    )
    assert f"checkout returns 500. {clocks}" in out
    assert "Incident #1: 3m left to start handling it (by 2026-11-23 01:15 UTC)" in out
    assert "“Management notified” is due by 2026-11-23 01:15 UTC, in 3m" in out
    assert ">>> @dave\n📣 For management: incident #1 [P0] checkout returns 500." in out
    assert ">>> #status\n📣 Service notice: Checkout fails for some users" in out
    assert "start-handling deadline is missed" not in out
    assert "Respond (5m): late: at 2026-11-23 01:06 UTC" in out
    assert "Start handling (15m): met at 2026-11-23 01:12 UTC" in out
    assert "Resolve (4h): met at 2026-11-23 01:52 UTC" in out
    assert "Management notified: done by @alice" in out
    assert "- Respond by 2026-11-23T01:05+00:00: breached by 1m" in out
    assert "- Start handling by 2026-11-23T01:15+00:00: met" in out
    assert "@alice update: rolled back the config, error rate falling" in out
    assert "## Root cause" in out
