"""The shipped gray-miniprogram drill, as a new user runs it: refused early, promoted
through the batches, rolled back by a crash spike, retried."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_gray_miniprogram_drill_walks_refuses_rolls_back_and_retries() -> None:
    out = run_drill("gray-miniprogram.txt")
    # An early promote is refused, with the reason.
    assert "Not promoting miniapp (at 1%):\nsoak: 1h 30m left of 2h in stage internal" in out
    # Then it goes through the batches.
    assert "alice promoted miniapp 2.0.0 from 1% to 5% (stage small)." in out
    assert "alice promoted miniapp 2.0.0 from 5% to 20% (stage large)." in out
    # Once in the release channel: the reply is not posted a second time.
    assert out.count("alice promoted miniapp 2.0.0 from 1% to 5%") == 1
    # The crash spike: 2 minutes above 0.5% rolls back, in the channel and to the owner.
    rollback = "Shipwatch rolled miniapp 2.0.0 back from 20% to 0% on its own:"
    assert f">>> #releases\n{rollback}" in out
    assert f">>> @alice\n{rollback}" in out
    assert "Guard crash_rate read 0.02 (> 0.005) continuously since" in out
    assert "rollback 20% → 0% (rolled back) guard crash_rate: 0.02 > 0.005" in out
    assert "  State: rolled back" in out
    # A retry keeps to the deploy windows: refused past midnight, forced by a release manager.
    assert "Not letting miniapp retry: it is outside the deploy windows." in out
    assert "alice retried miniapp 2.0.0 (attempt 2): back at 1%." in out
    assert "Retried outside the deploy windows, forced: crash fix verified on staging" in out
