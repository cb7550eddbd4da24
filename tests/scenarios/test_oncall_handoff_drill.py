"""The shipped handoff drill: an override's end and the weekly handoff are posted to #web
with who handed over and what is still open."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_handoff_drill() -> None:
    out = run_drill("oncall-handoff.txt")
    first = out.index("🔁 Handoff for web at 2026-11-23 12:00 UTC+8: who is on call now")
    weekly = out.index("🔁 Handoff for web at 2026-11-30 09:00 UTC+8: who is on call now")
    assert first < weekly
    at_noon = out[first:weekly]
    assert "  Primary: @bob (from @dave)\n  Secondary: @carol (stays on)" in at_noon
    assert "  page #1 P2 #1 disk filling on db-2 (acknowledged)" in at_noon
    assert "  incident #1 P2 disk filling on db-2 (acknowledged)" in at_noon
    at_monday = out[weekly:]
    assert "  Primary: @carol (from @bob)\n  Secondary: @bob (from @carol)" in at_monday
    assert "No open pages or incidents." in at_monday
    assert out.count("🔁 Handoff") == 2
