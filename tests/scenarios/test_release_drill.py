"""The shipped gray-miniprogram drill, as a new user runs it: refused early, a responder's
stage skip refused, promoted through the batches, stopped by 0.3% crashes (the stop tier),
rolled back by 0.6% for 2 minutes (the rollback tier), retried."""

from __future__ import annotations

from tests.fakes.drill import run_drill


def test_the_gray_miniprogram_drill_walks_refuses_rolls_back_and_retries() -> None:
    out = run_drill("gray-miniprogram.txt")
    # Prepared first: the 1% moves at go, once the required pre-launch checks are ticked.
    assert "alice prepared miniapp 2.0.0 with plan gray-miniprogram: no traffic yet." in out
    assert "alice moved the first traffic of miniapp 2.0.0: stage internal, 1% of traffic." in out
    # An early promote is refused, with the reason.
    assert "Not promoting miniapp (at 1%):\nsoak: 1h 30m left of 2h in stage internal" in out
    # A responder may not skip the 5% stage: one sentence, nothing moves.
    assert (
        ">>> #releases\nNot skipping stage small (5%) of miniapp: skipping a stage is a release "
        "manager's decision (/release promote miniapp --to 20% --force --reason TEXT).\n>>>"
    ) in out
    # Then it goes through the batches.
    assert "bob promoted miniapp 2.0.0 from 1% to 5% (stage small)." in out
    assert "alice promoted miniapp 2.0.0 from 5% to 20% (stage large)." in out
    # Once in the release channel: the reply is not posted a second time.
    assert out.count("bob promoted miniapp 2.0.0 from 1% to 5%") == 1
    # 0.3% crashes: not "ok" — the stop tier (> 0.1%) stops the gray release at once, in
    # the channel (the decision owner, alice, is in it: no copy for her), with the
    # 15-minute meeting.
    stopped = "🛑 Shipwatch stopped the gray release of miniapp 2.0.0 at 20%"
    assert f">>> #releases\n{stopped}" in out
    assert f">>> @alice\n{stopped}" not in out
    assert "Guard crash_rate_stop read 0.3% (> 0.1%) continuously since" in out
    assert "Core team meeting within 15 minutes (by 2026-11-23 16:16 UTC)" in out
    assert "  Paused because: guard crash_rate_stop: 0.3% > 0.1%" in out
    assert "  crash_rate (> 0.5%): ok: 0.3%" in out
    # 0.6% for 2 minutes: above 0.5% rolls back, in the channel the owner is in.
    rollback = "Shipwatch rolled miniapp 2.0.0 back from 20% to 0% on its own:"
    assert f">>> #releases\n{rollback}" in out
    assert f">>> @alice\n{rollback}" not in out
    assert "Guard crash_rate read 0.6% (> 0.5%) continuously since" in out
    assert "rollback 20% → 0% (rolled back) guard crash_rate: 0.6% > 0.5%" in out
    assert "  State: rolled back" in out
    # A retry is not sent into a guard still reading bad, and keeps to the deploy windows:
    # refused past midnight with the reading, forced by a release manager.
    assert "Not letting miniapp retry: guard crash_rate_stop still reads bad, 0.6%" in out
    assert "Not letting miniapp retry: it is outside the deploy windows." in out
    assert "Forced by @alice past what held it: crash fix verified on staging" in out
    assert "alice retried miniapp 2.0.0 (attempt 2): back at 1%." in out
    assert "Retried outside the deploy windows, forced: crash fix verified on staging" in out


def test_the_drill_runs_the_severe_bug_playbook_and_the_rollback_runbook() -> None:
    out = run_drill("gray-miniprogram.txt")
    # The stop tier's playbook (seed 003 §8.2), in the incident channel and to management.
    playbook = "🚨 Playbook #1 上线后发现严重BUG · a severe bug after launch (miniapp)."
    assert f">>> #incidents\n{playbook}" in out
    assert f">>> #management\n{playbook}" in out
    assert "Decides: release-manager (@alice)" in out
    assert "✅ Run #1, step 1 done (@alice): Gray release stopped" in out
    # The automatic rollback started the plan's rollback runbook, owners and a 10m clock.
    runbook = "🔁 Rollback runbook #2 of miniapp 2.0.0: back within 10m (by 2026-11-23 16:13 UTC)."
    assert f">>> #releases\n{runbook}" in out
    assert "Started by @shipwatch: guard crash_rate: 0.6% > 0.5%" in out
    assert "✅ Run #2, step 4 done (@dave): Mini-program version and backend API rolled back" in out
    assert "3. by T+4m (2026-11-23 16:07 UTC) Previous version prepared and tested" in out
    assert "— qa (@bob): due in 3m 30s" in out
    assert (
        "8. by T+3d (2026-11-26 16:03 UTC) Review written, improvement plan set · 撰写事后总结"
        in out
    )
    # Deterministic: the same story twice.
    assert run_drill("gray-miniprogram.txt") == out
