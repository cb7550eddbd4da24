"""The shipped on-call drill: who is on call, a P0 pages bob at once, the escalation
reaches carol after 5 minutes, carol acknowledges from the button and bob is told; a P2
on Friday evening pages at once, as the launch plan's 30-minute promise says."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_oncall_drill() -> None:
    out = run_drill("oncall-p0.txt")
    assert "Primary: @bob until 2026-11-30 09:00 UTC+8" in out
    assert "Secondary: @carol until 2026-11-30 09:00 UTC+8" in out
    page = "📟 Page #1 P0 (web): #1 checkout returns 500 — from @alice"
    # bob at once, carol after 5 minutes, nobody else: carol answered.
    assert out.index(f">>> @bob\n{page}") < out.index(f">>> @carol\n{page}")
    assert out.index("-- The clock is now 2026-11-23 01:05 UTC.") > out.index(f">>> @carol\n{page}")
    assert f">>> @dave\n{page}" not in out
    assert out.count(page) == 2
    # carol pressed Acknowledge: she is answered, not told her own news; bob is in #web,
    # where it is said, so he gets no copy.
    acked = "Page #1 (#1 checkout returns 500) acknowledged by @carol."
    assert ">>> @carol\nYou acknowledged page #1 (#1 checkout returns 500)" in out
    assert out.count(acked) == 1
    assert f">>> #web\n{acked}" in out
    assert "Incident #1 acknowledged by @carol" in out
    assert "#1 checkout returns 500 — web, acknowledged, @carol" in out
    assert "#1 checkout returns 500 — web, resolved, @carol" in out
    # Friday 18:30 in Shanghai: outside working hours, the P2 pages bob at once.
    friday = out.index("-- The clock is now 2026-11-27 10:30 UTC.")
    assert out.index(">>> @bob\n📟 Page #2 P2 (web): #2 search is slow — from @alice") > friday
