"""Launch coordination through the whole pipeline, on a virtual clock, on SQLite and
PostgreSQL: checklist, Go/No-Go, windows and freezes, runbook, progress and follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from storage.models import AuditEntry, DeployFreeze, ReleaseLaunch, ReleaseRow
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.support import releases_posts

# Monday 17:00 in Shanghai, miniapp's team's timezone: its deploy window is open.
IN_WINDOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GOOD = {
    "crash_rate": 0.00005,
    "error_rate": 0.0005,
    "api_error_rate": 0.01,
    "api_timeout_rate": 0.02,
    "p99_latency_ms": 400,
}
ALL_MET = "functional=96 performance=92 stability=99.6 satisfaction=85 blockers=0"


async def prepared(make_harness: HarnessFactory, *, start: datetime = IN_WINDOW) -> Harness:
    """miniapp 2.0.0 started: prepared, its required pre-launch checks open, no traffic."""
    h = await make_harness(start=start)
    for name, value in GOOD.items():
        h.app.integrations.simulated_metrics.set(name, value)
    out = await h.say("/release start miniapp 2.0.0")
    assert out.status == "ok", h.reply_text(out)
    return h


async def started(make_harness: HarnessFactory) -> Harness:
    """miniapp 2.0.0 in its first stage: prepared, checks 1-4 ticked, gone."""
    h = await prepared(make_harness)
    for said in [*(f"/release check miniapp {n}" for n in (1, 2, 3, 4)), "/release go miniapp"]:
        out = await h.say(said)
        assert out.status == "ok", h.reply_text(out)
    return h


def launch_state(h: Harness) -> dict:  # type: ignore[type-arg]
    with unit_of_work(h.app.engine) as session:
        row = session.exec(select(ReleaseLaunch)).first()
        return dict(row.state) if row else {}


def audits(h: Harness, command: str) -> list[AuditEntry]:
    with unit_of_work(h.app.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.command == command)).all())


async def test_required_items_hold_the_first_traffic_until_ticked(
    make_harness: HarnessFactory,
) -> None:
    h = await prepared(make_harness)
    refused = await h.say("/release go miniapp")
    assert refused.status == "refused"
    text = h.reply_text(refused)
    assert text.startswith("Not moving miniapp's first traffic (stage internal, 1%) until its 4")
    assert "1. Database backup tested" in text
    assert "Change log" not in text  # optional
    assert "Customer support staffed" not in text  # required before full, not now
    status = h.reply_text(await h.say("/release status miniapp"))
    assert "4. Release owner and on-call engineer named" in status
    for item in (1, 2, 3):
        ok = await h.say(f"/release check miniapp {item}", user="bob")
        assert ok.status == "ok", h.reply_text(ok)
    # The fourth by its button in the checklist, pressed by carol.
    shown = await h.say("/release checklist miniapp")
    assert shown.reply is not None
    assert "(required before internal)" in h.reply_text(shown)
    [tick4] = [b.action_id for b in shown.reply.buttons if "4" in b.command]
    await h.advance(hours=2)
    pressed = await h.press(tick4, user="carol")
    assert pressed.status == "ok", h.reply_text(pressed)
    listing = h.reply_text(await h.say("/release checklist miniapp"))
    assert "☑ @carol at 2026-11-23 11:00 UTC" in listing
    assert "4 of 8 ticked" in listing
    # 19:00 in Shanghai now: the window is judged when the traffic moves.
    status = h.reply_text(await h.say("/release status miniapp"))
    assert "Not moving" not in status
    assert "Not letting miniapp move its first traffic: it is outside the deploy windows" in status
    late = h.reply_text(await h.say("/release go miniapp"))
    assert "Not letting miniapp move its first traffic: it is outside the deploy windows." in late
    forced = await h.say('/release go miniapp --force --reason "checks done, launch tonight"')
    assert forced.status == "ok", h.reply_text(forced)
    ticks = audits(h, "release check")
    assert [(a.actor, a.outcome) for a in ticks] == [
        ("bob", "ok"),
        ("bob", "ok"),
        ("bob", "ok"),
        ("carol", "ok"),
    ]
    assert "ticked item 1: Database backup tested" in ticks[0].detail


async def test_checklist_mistakes_change_nothing(make_harness: HarnessFactory) -> None:
    h = await prepared(make_harness)
    unknown = await h.say("/release check miniapp 12")
    assert unknown.status == "refused" or unknown.status == "usage"
    assert "There is no checklist item 12; the checklist has items 1 to 8" in h.reply_text(unknown)
    assert launch_state(h) == {}
    await h.say('/release check miniapp 2 --note "script in the wiki"', user="bob")
    twice = await h.say("/release check miniapp 2")
    assert "Item 2 was ticked already, by @bob" in h.reply_text(twice)
    assert launch_state(h)["checks"]["2"]["by"] == "bob"
    guest = await h.say("/release check miniapp 3", user="mallory")
    assert guest.status == "denied"
    undo = await h.say("/release uncheck miniapp 2")
    assert "Item 2 unticked by @alice" in h.reply_text(undo)
    assert launch_state(h)["checks"] == {}
    again = await h.say("/release uncheck miniapp 2")
    assert "Item 2 is not ticked" in h.reply_text(again)


async def test_go_no_go_scores_stores_and_gates_the_final_stage(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    for item in range(5, 9):
        assert (await h.say(f"/release check miniapp {item}")).status == "ok"
    await h.advance(hours=2)
    assert (await h.say("/release promote miniapp")).status == "ok"
    await h.advance(hours=4)
    assert (await h.say("/release promote miniapp")).status == "ok"
    await h.advance(hours=24)
    # Bad input: a sentence, nothing stored.
    for line, sentence in [
        (
            "functional=96 performance=92 stability=99.6 satisfaction=85",
            "Missing from the Go/No-Go: blockers.",
        ),
        (ALL_MET.replace("=96", "=-3"), "functional=-3 is out of range"),
        (ALL_MET.replace("=96", "=140"), "functional=140 is out of range"),
        (ALL_MET + " speed=9", "There is no Go/No-Go dimension “speed”"),
    ]:
        out = await h.say(f"/release gonogo miniapp {line}")
        assert out.status == "usage", h.reply_text(out)
        assert sentence in h.reply_text(out)
    assert launch_state(h) == {} or launch_state(h).get("assessment") is None
    no_go = await h.say(
        "/release gonogo miniapp functional=90 performance=92 stability=99.6 "
        "satisfaction=70 blockers=0"
    )
    assert "55% → NO-GO" in h.reply_text(no_go)
    refused = await h.say("/release promote miniapp --to 100%")
    assert refused.status == "refused"
    assert "Go/No-Go is NO-GO (55%" in h.reply_text(refused)
    review = await h.say(
        "/release gonogo miniapp functional=96 performance=92 stability=98 "
        "satisfaction=85 blockers=0",
        user="bob",
    )
    assert "75% → REVIEW" in h.reply_text(review)
    assert "REVIEW: fix what was missed and assess again" in h.reply_text(review)
    # Seed 000: a REVIEW is fixed and assessed again; the shipped plan lets nobody approve
    # it through to full rollout.
    held = h.reply_text(await h.say("/release promote miniapp --to 100%"))
    assert "Go/No-Go is REVIEW (75%): fix what was missed and assess again" in held
    assert (await h.say("/release gonogo miniapp --approve", user="bob")).status == "denied"
    refused = await h.say("/release gonogo miniapp --approve")
    assert refused.status == "refused"
    assert h.reply_text(refused) == (
        "Plan gray-miniprogram does not let a REVIEW be approved: fix what was missed and "
        "assess miniapp again (a plan may switch on gonogo.approve_review)."
    )
    assert launch_state(h)["assessment"]["approved_by"] is None
    assert "100% → GO" in h.reply_text(await h.say(f"/release gonogo miniapp {ALL_MET}"))
    done = await h.say("/release promote miniapp --to 100%")
    assert "fully released (100%)" in h.reply_text(done)


async def test_the_window_is_judged_when_the_first_traffic_moves_or_forced(
    make_harness: HarnessFactory,
) -> None:
    # Monday 09:00 in Shanghai: preparing needs no window, the traffic does.
    h = await prepared(make_harness, start=datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    for n in (1, 2, 3, 4):
        await h.say(f"/release check miniapp {n}")
    out = await h.say("/release go miniapp")
    assert out.status == "refused"
    assert (
        "Not letting miniapp move its first traffic: it is outside the deploy windows. The next "
        "window opens 2026-11-23 17:00 UTC+8." in h.reply_text(out)
    )
    assert "--force --reason" in h.reply_text(out)
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow.state)).one() == "prepared"
    bob = await h.say("/release go miniapp --force --reason hotfix", user="bob")
    assert bob.status == "denied"
    forced = await h.say('/release go miniapp --force --reason "security fix"')
    assert forced.status == "ok", h.reply_text(forced)
    assert "First traffic moved outside the deploy windows, forced: security fix" in h.reply_text(
        forced
    )
    [entry] = [a for a in audits(h, "release go") if a.outcome == "ok"]
    assert "outside a window, forced: security fix" in entry.detail
    # A plan without required checks before its first stage starts as before: at once, and
    # judged then. The standard plan has no windows: web starts at any hour.
    started_web = await h.say("/release start web 1.4.2")
    assert "alice started releasing web 1.4.2" in h.reply_text(started_web)


async def test_a_start_that_moves_traffic_is_refused_outside_the_window_or_forced(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "gated.yaml").write_text(
        GATED_PLAN.replace("gate: stages", "gate: start"), encoding="utf-8"
    )
    (tmp_path / "services.yaml").write_text(SHOP, encoding="utf-8")
    h = await make_harness(config_dir=tmp_path)  # Monday 09:00 in Shanghai
    out = await h.say("/release start shop 1.0.0")
    assert out.status == "refused"
    assert (
        "Not letting shop start: it is outside the deploy windows. The next window opens "
        "2026-11-23 17:00 UTC+8." in h.reply_text(out)
    )
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).all() == []
    bob = await h.say("/release start shop 1.0.0 --force --reason hotfix", user="bob")
    assert bob.status == "denied"
    forced = await h.say('/release start shop 1.0.0 --force --reason "security fix"')
    assert forced.status == "ok", h.reply_text(forced)
    assert "Started outside the deploy windows, forced: security fix" in h.reply_text(forced)
    [entry] = [a for a in audits(h, "release start") if a.outcome == "ok"]
    assert "outside a window, forced: security fix" in entry.detail


async def test_freezes_add_list_remove_and_stop_starts_on_their_day(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    past = await h.say('/release freeze add 2026-11-01 --reason "too late"')
    assert "2026-11-01 is in the past (today is 2026-11-23)" in h.reply_text(past)
    bad = await h.say("/release freeze add tomorrow --reason x")
    assert "is not a day" in h.reply_text(bad)
    assert (await h.say("/release freeze add 2026-11-24 --reason x", user="bob")).status == (
        "denied"
    )
    added = await h.say('/release freeze add 2026-11-23 --reason "payments migration"')
    assert "Freeze #1: no release starts on 2026-11-23 (payments migration)" in h.reply_text(added)
    listed = h.reply_text(await h.say("/release freeze list"))
    assert "#1 2026-11-23: payments migration (by @alice)" in listed
    # Even a plan without windows honours a declared freeze.
    out = await h.say("/release start web 1.4.2")
    assert out.status == "refused"
    assert "2026-11-23 is frozen: payments migration" in h.reply_text(out)
    window = h.reply_text(await h.say("/release window"))
    assert "Freezes to come: 2026-11-23 (payments migration)" in window
    assert "miniapp: closed" in window
    gone = await h.say("/release freeze remove 1")
    assert "Freeze #1 on 2026-11-23 removed by @alice." in h.reply_text(gone)
    assert "There is no freeze 1" in h.reply_text(await h.say("/release freeze remove 1"))
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(DeployFreeze)).all() == []
    assert (await h.say("/release start web 1.4.2")).status == "ok"


async def test_the_runbook_reminds_owners_tracks_marks_and_calls_out_overdue_steps(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    await h.advance(minutes=30)
    step3 = [s for s in h.adapter.sent if "Runbook step 3 of miniapp is due" in s.text]
    # Owner "dba", a duty of roles.yaml: carol, who is in the release channel, hears of it
    # there, once (step 4's owner, dave, is not in it and is told directly too).
    assert sorted(s.address for s in step3) == ["#releases"]
    # The T-1h backups come before the start: listed, never announced late.
    assert not [s for s in h.adapter.sent if "Runbook step 1 of miniapp is due" in s.text]
    assert (await h.say("/release step miniapp 1 done", user="bob")).status == "ok"
    nothing = await h.say("/release step miniapp 9 done")
    assert "There is no runbook step 9; the runbook has steps 1 to 8" in h.reply_text(nothing)
    await h.advance(minutes=50)
    step4 = [s for s in h.adapter.sent if "Runbook step 4 of miniapp is due" in s.text]
    assert sorted(s.address for s in step4) == ["#releases", "dave"]
    book = h.reply_text(await h.say("/release runbook miniapp"))
    assert "1. T-1:00 (2026-11-23 08:00 UTC)" in book
    assert "✅ done by @bob at 2026-11-23 09:30 UTC" in book
    assert "2. T+0:00" in book
    assert "⚠️ OVERDUE by 1h 20m" in book
    assert "3. T+0:30" in book
    assert "OVERDUE by 50m" in book
    assert "5. T+1:15" in book
    assert "OVERDUE by 5m" in book
    assert "6. T+1:30" in book
    assert "due in 10m" in book
    assert "8. T+48:00 (2026-11-25 09:00 UTC) Full release" in book
    assert "4 steps overdue." in book
    skipped = await h.say('/release step miniapp 2 skip --note "nothing to change"')
    assert "Step 2 of miniapp skipped (@alice)" in h.reply_text(skipped)
    again = await h.say("/release step miniapp 2 done")
    assert "Step 2 is skipped already (by @alice)." in h.reply_text(again)


async def test_progress_posts_every_30_minutes_and_follow_ups_after_completion(
    make_harness: HarnessFactory,
) -> None:
    h = await started(make_harness)
    progress = "📊 Progress of miniapp 2.0.0"
    await h.advance(minutes=29)
    assert not any(progress in p for p in releases_posts(h))
    await h.advance(minutes=1)
    [first] = [p for p in releases_posts(h) if progress in p]
    assert "stage internal, 1% (1 of 4), in stage." in first
    assert "Next stage in 1h 30m at the earliest." in first
    assert "crash_rate (> 0.5%): ok: 0.005% at" in first
    assert "Open checklist items (4)" in first
    h.app.integrations.simulated_metrics.set("p99_latency_ms", 450)
    await h.advance(minutes=30)
    second = [p for p in releases_posts(h) if progress in p][-1]
    assert "p99_latency_ms (> 1000): ok: 450 ↑ at" in second
    assert "crash_rate (> 0.5%): ok: 0.005% → at" in second
    await h.advance(minutes=60)
    assert len([p for p in releases_posts(h) if progress in p]) == 4
    await h.say('/release promote miniapp --to 100% --force --reason "drill"')
    posts_at_completion = len(releases_posts(h))
    # The launch day is day 1 (seed 003 §10.2): its check follows completion at once.
    await h.advance(minutes=2)
    day1 = [p for p in releases_posts(h) if "Day-1 check of miniapp 2.0.0" in p]
    assert len(day1) == 1
    assert "☐ Users can log in · 用户能正常登录" in day1[0]
    assert "crash_rate (> 0.5%): ok: 0.005% → at 2026-11-23 11:00 UTC" in day1[0]
    await h.advance(hours=3)
    assert not any(progress in p for p in releases_posts(h)[posts_at_completion:])
    await h.advance(days=2)
    day3 = [p for p in releases_posts(h) if "Day-3 check of miniapp 2.0.0" in p]
    assert len(day3) == 1  # two days after the launch day, not three
    await h.advance(days=4)
    headers = [p.splitlines()[0] for p in releases_posts(h) if "check of miniapp" in p]
    assert [line.split()[1] for line in headers] == ["Day-1", "Day-3", "Day-7"]


GATED_PLAN = """
name: gated
stages:
  - {name: canary, percent: 10%, soak: 30m}
  - {name: full, percent: 100%}
windows:
  gate: stages
  timezone: Asia/Shanghai
"""
SHOP = """
services:
  shop:
    plan: gated
    release_channel: "#releases"
"""


async def test_a_plan_may_hold_promotions_to_the_windows_too(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "gated.yaml").write_text(GATED_PLAN, encoding="utf-8")
    (tmp_path / "services.yaml").write_text(SHOP, encoding="utf-8")
    h = await make_harness(start=IN_WINDOW, config_dir=tmp_path)
    h.app.integrations.simulated_metrics.set("error_rate", 0.01)
    assert (await h.say("/release start shop 1.0.0")).status == "ok"
    await h.advance(hours=1)  # 18:00 in Shanghai: the window has closed
    out = await h.say("/release promote shop")
    assert out.status == "refused"
    assert (
        "Not letting shop move on: it is outside the deploy windows. "
        "The next window opens 2026-11-24 17:00 UTC+8." in h.reply_text(out)
    )
    forced = await h.say('/release promote shop --force --reason "customer waiting"')
    assert "fully released (100%)" in h.reply_text(forced)


async def test_a_freeze_on_a_services_today_is_not_in_the_past_elsewhere(
    make_harness: HarnessFactory,
) -> None:
    # 12:00 UTC: already the 24th by SHIPWATCH_TIMEZONE, still the 23rd in Shanghai,
    # where the services' windows are read.
    h = await make_harness(
        start=datetime(2026, 11, 23, 12, tzinfo=UTC), timezone="Pacific/Kiritimati"
    )
    added = await h.say('/release freeze add 2026-11-23 --reason "payments migration"')
    assert "Freeze #1: no release starts on 2026-11-23" in h.reply_text(added)
    past = await h.say('/release freeze add 2026-11-22 --reason "too late"')
    assert "2026-11-22 is in the past (today is 2026-11-23)" in h.reply_text(past)


async def test_an_automatic_promotion_judges_the_window_where_a_manual_one_does(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    # No timezone in the plan, no team for the service: windows are read in
    # SHIPWATCH_TIMEZONE, by /release promote and by the move after a soak alike.
    (tmp_path / "plans").mkdir()
    plan = GATED_PLAN.replace("  timezone: Asia/Shanghai\n", "")
    (tmp_path / "plans" / "gated.yaml").write_text(plan, encoding="utf-8")
    (tmp_path / "services.yaml").write_text(SHOP, encoding="utf-8")
    h = await make_harness(start=IN_WINDOW, config_dir=tmp_path, timezone="Asia/Shanghai")
    h.app.integrations.simulated_metrics.set("error_rate", 0.01)
    assert (await h.say("/release start shop 1.0.0")).status == "ok"  # 17:00 in Shanghai
    await h.advance(minutes=31)  # soaked at 17:30, the window open until 18:00
    told = "\n".join(s.text for s in h.adapter.sent if s.address == "#releases")
    assert "Nothing blocks promotion: /release promote shop." in told
    assert "outside the deploy windows" not in told  # it was, read in UTC
