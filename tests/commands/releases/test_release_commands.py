"""/release through the whole pipeline, on a virtual clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.config.directory import DEFAULTS
from bot.i18n import Translator
from bot.render import plain_lines
from commands.core import pipeline
from commands.core.invocations import CommandInvocation
from commands.releases import lifecycle, rows
from playbooks.effects import Conversation
from playbooks.messages import text_from_str
from playbooks.releases.plan import Plan
from storage.models import AuditEntry, OutboxMessage, ReleaseEvent, ReleaseRow, Timer
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.support import releases_posts, set_metrics, traffic

# miniapp's plan starts releases only in a deploy window: weekdays 17:00-18:00 in its
# team's Asia/Shanghai, so its tests start the clock at Monday 17:00 there.
DEPLOY_WINDOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GOOD = {
    "crash_rate": 0.00005,
    "error_rate": 0.0005,
    "api_error_rate": 0.01,
    "api_timeout_rate": 0.02,
    "p99_latency_ms": 400,
}


# gray-miniprogram's required pre-launch checks (seed 003 §10.1): before the first 1%.
PRE_LAUNCH = (1, 2, 3, 4)


async def go_live(h: Harness) -> None:
    """Start miniapp, tick its pre-launch checks and move its first traffic."""
    checks = [f"/release check miniapp {n}" for n in PRE_LAUNCH]
    for said in ["/release start miniapp 2.0.0", *checks, "/release go miniapp"]:
        out = await h.say(said)
        assert out.status == "ok", (said, h.reply_text(out))


def release_row(h: Harness) -> ReleaseRow:
    with unit_of_work(h.app.engine) as session:
        return session.exec(select(ReleaseRow)).one()


async def test_start_prepares_go_waits_for_the_checks_then_moves_the_first_stage(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    out = await h.say("/release start miniapp 2.0.0 --note 'spring release'")
    assert out.status == "ok", h.reply_text(out)
    assert "alice prepared miniapp 2.0.0 with plan gray-miniprogram: no traffic yet." in (
        h.reply_text(out)
    )
    assert traffic(h) == []
    assert (release_row(h).state, release_row(h).percent) == ("prepared", 0)
    status = h.reply_text(await h.say("/release status miniapp"))
    assert "State: prepared (no traffic yet)" in status
    assert "Holding the first traffic (internal, 1%):" in status
    assert "[Go]" in status
    assert "crash_rate" not in status  # nothing is read before the first traffic
    # It holds the service: a second start is refused.
    again = await h.say("/release start miniapp 2.0.1", user="bob")
    assert "miniapp is already releasing 2.0.0" in h.reply_text(again)
    # Not watched: with no metric at all, ten minutes pause nothing (a release in gray
    # would pause after five minutes without data).
    await h.advance(minutes=10)
    assert release_row(h).state == "prepared"
    assert h.app.ticks.watching() == []
    refused = await h.say("/release go miniapp", user="bob")
    assert refused.status == "refused"
    assert h.reply_text(refused) == (
        "Not moving miniapp's first traffic (stage internal, 1%) until its 4 open required "
        "checks are ticked with /release check miniapp N: 1. Database backup tested · "
        "数据库备份已测试; 2. Rollback script ready · 回滚脚本已准备; 3. Monitoring and alerts "
        "configured · 监控告警已配置; 4. Release owner and on-call engineer named · "
        "发布负责人和技术值班人已安排."
    )
    promote = await h.say("/release promote miniapp")
    assert "miniapp is prepared, with no traffic yet" in h.reply_text(promote)
    for n in PRE_LAUNCH[:3]:
        assert (await h.say(f"/release check miniapp {n}", user="bob")).status == "ok"
    await h.say("/config locale zh")
    zh = h.reply_text(await h.say("/release go miniapp", user="bob"))
    assert zh == (
        "miniapp 的首批流量（阶段 internal，1%）暂不放出：还有 1 项必需检查未勾选，请用 "
        "/release check miniapp N 勾选：4. Release owner and on-call engineer named · "
        "发布负责人和技术值班人已安排。"
    )
    await h.say("/config locale en")
    assert (release_row(h).state, traffic(h)) == ("prepared", [])
    assert (await h.say("/release check miniapp 4", user="bob")).status == "ok"
    set_metrics(h, GOOD)
    went = await h.say("/release go miniapp", user="bob")
    assert went.status == "ok", h.reply_text(went)
    assert "bob moved the first traffic of miniapp 2.0.0: stage internal, 1% of traffic." in (
        h.reply_text(went)
    )
    assert traffic(h) == [("miniapp", 1.0, "release-1-a1-s0")]
    assert h.app.ticks.watching() == [1]
    status = h.reply_text(await h.say("/release status miniapp"))
    assert "internal, 1% (of 4 stages)" in status
    assert "Soak: 2h left" in status
    assert "crash_rate (> 0.5%): no reading yet" in status
    await h.advance(seconds=30)
    status = h.reply_text(await h.say("/release status miniapp"))
    assert "crash_rate (> 0.5%): ok: 0.005%" in status
    assert "[Promote]" in status
    assert "[Roll back]" in status
    twice = await h.say("/release go miniapp")
    assert "miniapp cannot go now: it is in stage." in h.reply_text(twice)
    with unit_of_work(h.app.engine) as session:
        moves = session.exec(select(ReleaseEvent.move, ReleaseEvent.to_state)).all()
        assert moves == [("start", "prepared"), ("go", "in_stage")]
        goes = session.exec(select(AuditEntry).where(AuditEntry.command == "release go")).all()
        assert [(a.actor, a.outcome) for a in goes] == [
            ("bob", "refused"),
            ("bob", "refused"),
            ("bob", "ok"),
            ("alice", "refused"),
        ]
        assert goes[2].detail.endswith("go: 0% → 1%")


async def test_a_prepared_release_may_be_aborted_and_moved_no_traffic(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    await h.say("/release start miniapp 2.0.0")
    rollback = await h.say("/release rollback miniapp --reason security")
    assert "miniapp cannot rollback now: it is prepared (no traffic yet)." in h.reply_text(rollback)
    aborted = await h.say("/release abort miniapp --reason 'postponed a week'")
    assert aborted.status == "ok", h.reply_text(aborted)
    assert release_row(h).state == "aborted"
    assert traffic(h) == []
    # The service is free again, and the runbook's reminders stopped with the abort.
    await h.advance(hours=2)
    assert not [p for p in releases_posts(h) if "Runbook step" in p]
    assert (await h.say("/release start miniapp 2.0.1")).status == "ok"


async def test_an_early_promote_lists_every_reason_and_changes_nothing(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    await go_live(h)
    # 1.5% errors: under both guards' tiers (2% stops, 5% rolls back), over the
    # first stage's own target (< 1%, seed 003 §5.1).
    set_metrics(h, {**GOOD, "error_rate": 0.015})
    await h.advance(minutes=1)
    out = await h.say("/release promote miniapp")
    assert out.status == "refused"
    text = h.reply_text(out)
    assert "Not promoting miniapp (at 1%):" in text
    assert "soak: 1h 59m left of 2h in stage internal" in text
    assert "stage target: error_rate reached 1.5% in stage internal; the target is < 1%" in text
    assert "guard error_rate:" not in text
    assert traffic(h) == [("miniapp", 1.0, "release-1-a1-s0")]
    with unit_of_work(h.app.engine) as session:
        row = session.exec(select(ReleaseRow)).one()
        assert row.stage == 0
        refused = session.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
        assert [a.command for a in refused] == ["release promote"]


async def test_a_clean_soak_promotes_through_the_stages_to_completion(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    await h.advance(minutes=30)
    assert any("soak of stage canary (10%) of web is over" in p for p in releases_posts(h))
    assert (await h.say("/release promote web")).status == "ok"
    await h.advance(hours=1)
    assert (await h.say("/release promote web")).status == "ok"
    await h.advance(hours=2)
    out = await h.say("/release promote web")
    assert "fully released (100%)" in h.reply_text(out)
    assert [p for _, p, _ in traffic(h)] == [10, 30, 50, 100]
    history = h.reply_text(await h.say("/release history web"))
    assert history.count("promote") == 3
    assert "complete" in history
    assert "no release in progress" in h.reply_text(await h.say("/release promote web"))


async def test_a_sustained_breach_rolls_back_by_itself_and_retry_starts_over(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    set_metrics(h, GOOD)
    await go_live(h)
    await h.advance(minutes=10)
    set_metrics(h, {"crash_rate": 0.02})  # first read at 10m30s; 2m of it is enough
    await h.advance(minutes=1)
    # The stop tier (> 0.1%) acted first: paused at its second reading, owners called.
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).one().state == "paused"
    stop = next(p for p in releases_posts(h) if "stopped the gray release" in p)
    assert "Core team meeting within 15 minutes" in stop
    await h.advance(minutes=1, seconds=29)
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).one().state == "paused"
    await h.advance(seconds=1)
    with unit_of_work(h.app.engine) as session:
        row = session.exec(select(ReleaseRow)).one()
        assert (row.state, row.percent) == ("rolled_back", 0)
    assert traffic(h)[-1] == ("miniapp", 0.0, "release-1-a1-rollback")
    post = next(p for p in releases_posts(h) if "rolled miniapp 2.0.0 back" in p)
    assert "Guard crash_rate read 2% (> 0.5%) continuously since" in post
    # Its owner, alice, is in #releases (people.yaml): said there, not again directly.
    assert not any(s.kind == "direct" and s.address == "alice" for s in h.adapter.sent)
    set_metrics(h, GOOD)
    # Not at once: the guards' last readings (2%) would refuse it while still current.
    await h.advance(minutes=2)
    out = await h.say("/release retry miniapp")
    assert "attempt 2" in h.reply_text(out)
    assert traffic(h)[-1] == ("miniapp", 1.0, "release-1-a2-s0")
    with unit_of_work(h.app.engine) as session:
        moves = session.exec(select(ReleaseEvent.move, ReleaseEvent.actor)).all()
        assert ("rollback", "shipwatch") in moves
        audit = session.exec(select(AuditEntry).where(AuditEntry.actor == "shipwatch")).all()
        assert [a.command for a in audit] == ["release pause", "release rollback"]


async def test_missing_data_pauses_the_release_and_says_why(make_harness: HarnessFactory) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    set_metrics(h, {k: v for k, v in GOOD.items() if k != "api_timeout_rate"})
    await go_live(h)
    await h.advance(minutes=5)
    status = h.reply_text(await h.say("/release status miniapp"))
    assert "State: paused" in status
    assert "api_timeout_rate (> 10%): no data at" in status
    assert "no value set (use :metric)" in status
    paused = [p for p in releases_posts(h) if "paused miniapp" in p]
    assert len(paused) == 1  # said once, not once by the pause and again with the reason
    assert "Shipwatch paused miniapp: guard api_timeout_rate has had no data" in paused[0]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "/release start checkout 1.0.0",
            "There is no service “checkout”. Services: miniapp, web.",
        ),
        ("/release start web latest", "“latest” is not a version"),
        ("/release start web 1.0.0 --plan yolo", "There is no plan “yolo”."),
        ("/release promote web", "web has no release in progress"),
        ("/release rollback web", "needs --reason"),
    ],
)
async def test_bad_input_gets_one_sentence_and_changes_nothing(
    make_harness: HarnessFactory, line: str, expected: str
) -> None:
    h = await make_harness()
    out = await h.say(line)
    assert out.status in ("usage", "refused")
    assert expected in h.reply_text(out)
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).all() == []
        assert session.exec(select(OutboxMessage)).all() == []


async def test_promote_refusals_name_the_way_forward(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    second = h.reply_text(await h.say("/release start web 1.4.3"))
    assert "web is already releasing 1.4.2 (at 10%, owner @alice)" in second
    lower = await h.say("/release promote web --to 5%")
    assert "no stage at 5%" in h.reply_text(lower)
    await h.advance(minutes=30)
    await h.say("/release promote web")
    lower = h.reply_text(await h.say("/release promote web --to 10%"))
    assert "use /release rollback web" in lower
    no_reason = await h.say("/release promote web --force")
    assert "needs --reason" in h.reply_text(no_reason)
    bob = await h.say("/release promote web --force --reason hurry", user="bob")
    assert bob.status == "denied"
    assert "release-manager" in h.reply_text(bob)
    zh = await h.say("/config locale zh")
    assert zh.status == "ok"
    assert "不推进 web" in h.reply_text(await h.say("/release promote web"))


async def test_force_is_audited_with_its_reason(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/release start web 1.4.2")
    out = await h.say('/release promote web --force --reason "hotfix, metrics dashboard down"')
    assert out.status == "ok"
    assert "past these blockers" in h.reply_text(out)
    with unit_of_work(h.app.engine) as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.command == "release promote")
        ).one()
        assert "forced: hotfix, metrics dashboard down" in entry.detail
        event = session.exec(select(ReleaseEvent).where(ReleaseEvent.move == "promote")).one()
        assert event.actor == "alice"
        # Stored as catalog text: each reader sees it in their language.
        assert Translator("en", UTC)(text_from_str(event.reason)).startswith("forced:")


async def test_buttons_on_the_status_message_pause_and_roll_back(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.say("/release start web 1.4.2")
    out = await h.say("/release status web")
    pause = next(b for b in out.reply.buttons if b.command.startswith("/release pause"))  # type: ignore[union-attr]
    assert (await h.press(pause.action_id, user="bob")).status == "ok"
    out = await h.say("/release status web")
    assert "State: paused" in h.reply_text(out)
    rollback = next(b for b in out.reply.buttons if "rollback" in b.command)  # type: ignore[union-attr]
    assert (await h.press(rollback.action_id, user="bob")).status == "ok"
    assert traffic(h)[-1] == ("web", 0.0, "release-1-a1-rollback")


async def test_plans_lists_the_shipped_plans(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    text = h.reply_text(await h.say("/release plans"))
    assert "gray-miniprogram: 1% (2h) → 5% (4h) → 20% (1d) → 100%" in text
    assert "crash_rate_stop > 0.1% 30s → stop" in text
    assert "crash_rate > 0.5% 2m → rollback" in text
    assert "standard: 10% (30m) → 30% (1h) → 50% (2h) → 100%" in text


async def test_fifty_concurrent_promotes_advance_the_release_once(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    await h.advance(minutes=30)
    now = h.clock.now()

    def promote(i: int) -> str:
        inv = CommandInvocation(
            "console", "alice", Conversation("console", "#ops"), "/release promote web", f"evt-{i}"
        )
        return pipeline.run_command(inv, runtime=h.app.runtime, now=now).status

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = await asyncio.gather(
            *(asyncio.wrap_future(pool.submit(promote, i)) for i in range(50))
        )
    assert sorted(set(statuses)) == ["ok", "refused"]
    assert statuses.count("ok") == 1
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow.percent)).one() == 30
        promotes = session.exec(
            select(ReleaseEvent).where(col(ReleaseEvent.move) == "promote")
        ).all()
        assert len(promotes) == 1
    await h.app.settle()
    assert [p for _, p, _ in traffic(h)] == [10, 30]


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_ten_concurrent_starts_on_two_replicas_start_one_and_refuse_the_rest_normally(
    make_harness: HarnessFactory,
) -> None:
    replicas = [await make_harness(), await make_harness()]
    now = replicas[0].clock.now()

    def start(i: int) -> tuple[str, str]:
        h = replicas[i % 2]
        user = ("alice", "bob")[i % 2]
        inv = CommandInvocation(
            "console", user, Conversation("console", "#ops"), f"/release start web 1.4.{i}"
        )
        outcome = pipeline.run_command(inv, runtime=h.app.runtime, now=now)
        return outcome.status, h.reply_text(outcome)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = await asyncio.gather(
            *(asyncio.wrap_future(pool.submit(start, i)) for i in range(10))
        )
    statuses = [status for status, _ in answers]
    assert statuses.count("ok") == 1, answers
    assert statuses.count("refused") == 9, answers
    for status, text in answers:
        if status == "refused":
            assert text.startswith("web is already releasing 1.4."), text
    with unit_of_work(replicas[0].app.engine) as session:
        assert len(session.exec(select(ReleaseRow)).all()) == 1
        outcomes = session.exec(
            select(AuditEntry.outcome).where(col(AuditEntry.command) == "release")
        ).all()
        assert "error" not in outcomes


async def test_the_tick_keeps_sampling_while_paused_and_stops_when_done(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    await h.say("/release pause web --reason 'lunch'")
    await h.advance(minutes=2)
    status = h.reply_text(await h.say("/release status web"))
    assert "error_rate (> 5%): ok: 0.05%" in status
    await h.say("/release abort web --reason 'wrong build'")
    with unit_of_work(h.app.engine) as session:
        pending = session.exec(
            select(Timer).where(col(Timer.kind).startswith("release."), Timer.state == "pending")
        ).all()
        assert pending == []  # no tick and no soak left for the aborted release


async def test_release_news_goes_to_the_platform_the_release_was_started_from(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "people.yaml").write_text(
        "people:\n  - handle: alice\n    name: Alice Chen\n"
        "    identities: {slack: U1, console: alice}\n",
        encoding="utf-8",
    )
    (tmp_path / "roles.yaml").write_text("roles:\n  admin: [alice]\n", encoding="utf-8")
    h = await make_harness(config_dir=tmp_path)
    inv = CommandInvocation("slack", "U1", Conversation("slack", "C1"), "/release start web 1.0.0")
    assert pipeline.run_command(inv, runtime=h.app.runtime, now=h.clock.now()).status == "ok"
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow.channel)).one() == "slack:#releases"
        posts = session.exec(select(OutboxMessage.conversation_key)).all()
        assert "slack:#releases" in posts


async def test_a_retry_outside_the_windows_is_refused_unless_forced(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    set_metrics(h, GOOD)
    await go_live(h)
    await h.say("/release rollback miniapp --reason bad")
    await h.advance(hours=2)  # 19:00: the window closed at 18:00
    refused = h.reply_text(await h.say("/release retry miniapp"))
    assert "Not letting miniapp retry: it is outside the deploy windows." in refused
    assert "--force --reason" in refused
    denied = h.reply_text(await h.say("/release retry miniapp --force --reason x", user="bob"))
    assert "release-manager" in denied
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).one().state == "rolled_back"
    forced = h.reply_text(await h.say("/release retry miniapp --force --reason hotfix"))
    assert "attempt 2" in forced
    assert "Retried outside the deploy windows, forced: hotfix" in forced
    with unit_of_work(h.app.engine) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.command == "release retry")).all()
        assert [a.detail for a in audit][-1].endswith("outside a window, forced: hotfix")


async def test_a_responder_may_not_skip_a_stage_a_release_manager_may_with_a_reason(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    await h.advance(minutes=30)
    skip = await h.say("/release promote web --to 100%", user="bob")
    assert skip.status == "refused"
    assert h.reply_text(skip) == (
        "Not skipping stage early (30%) of web: skipping a stage is a release manager's "
        "decision (/release promote web --to 100% --force --reason TEXT)."
    )
    # The next stage, named, is no skip.
    assert (await h.say("/release promote web --to 30%", user="bob")).status == "ok"
    await h.advance(hours=1)
    denied = await h.say("/release promote web --to 100% --force --reason hotfix", user="bob")
    assert denied.status == "denied"
    forced = await h.say('/release promote web --to 100% --force --reason "hotfix verified"')
    assert "fully released (100%)" in h.reply_text(forced)
    assert [p for _, p, _ in traffic(h)] == [10, 30, 100]
    with unit_of_work(h.app.engine) as session:
        done = session.exec(select(AuditEntry).where(AuditEntry.command == "release promote")).all()
        assert [(a.actor, a.outcome) for a in done] == [
            ("bob", "refused"),
            ("bob", "ok"),
            ("bob", "denied"),
            ("alice", "ok"),
        ]
        assert done[-1].detail.endswith("forced: hotfix verified")


async def test_a_manual_rollback_names_one_of_the_plan_s_triggers(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=DEPLOY_WINDOW)
    set_metrics(h, GOOD)
    await go_live(h)
    bare = await h.say("/release rollback miniapp", user="bob")
    assert bare.status == "usage"
    text = h.reply_text(bare)
    assert "/release rollback miniapp needs --reason: one of the plan's rollback triggers" in text
    assert "complaints (灰度用户投诉量 > 50条（1小时内）" in text
    assert "security (发现安全漏洞" in text
    assert "retention (用户留存率下降 > 20%" in text
    out = await h.say("/release rollback miniapp --reason complaints", user="bob")
    assert out.status == "ok"
    assert "complaints: 灰度用户投诉量 > 50条（1小时内）" in h.reply_text(out)
    with unit_of_work(h.app.engine) as session:
        [event] = session.exec(
            select(ReleaseEvent).where(col(ReleaseEvent.move) == "rollback")
        ).all()
        assert event.reason.startswith("complaints: 灰度用户投诉量 > 50条")
    plans = h.reply_text(await h.say("/release plans"))
    assert "rollback --reason complaints|security|retention|product" in plans


async def test_status_without_a_service_lists_a_screenful_those_needing_a_person_first(
    make_harness: HarnessFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more live releases than a chat message should hold, /release status names
    how many there are, lists the first LISTED with a paused one at the top, and says
    where the others are."""
    config = tmp_path / "config"
    shutil.copytree(DEFAULTS, config)
    names = [f"svc{n:02d}" for n in range(1, lifecycle.LISTED + 2)]
    services = config / "services.yaml"
    extra = "".join(
        f'  {name}:\n    plan: standard\n    team: web\n    release_channel: "#releases"\n'
        "    traffic:\n      backend: simulated\n    metrics:\n      source: simulated\n"
        for name in names
    )
    services.write_text(services.read_text(encoding="utf-8").rstrip("\n") + "\n" + extra)
    h = await make_harness(config_dir=config)
    set_metrics(h, GOOD)
    for name in names:
        assert (await h.say(f"/release start {name} 1.0.0")).status == "ok"
    assert (await h.say(f"/release pause {names[-1]} --reason checking")).status == "ok"
    out = await h.say("/release status")
    text = h.reply_text(out)
    assert out.reply is not None
    assert text.startswith(f"{len(names)} releases in progress:")
    assert f"The {lifecycle.LISTED} that most need a person are listed (paused first)" in text
    en = h.app.translator("en", UTC)
    listed = [en(field.label) for field in out.reply.fields]
    assert len(listed) == lifecycle.LISTED
    assert listed[0] == f"{names[-1]} 1.0.0"  # paused: at the top
    assert names[-2] not in " ".join(listed)  # the last in service order is left out
    zh = "\n".join(plain_lines(out.reply, h.app.translator("zh", UTC)))
    assert f"下面列出最需要人处理的 {lifecycle.LISTED} 个" in zh

    # The listed releases share their plan's stored text: it is built once, not per row.
    built: list[object] = []
    build = Plan.from_json
    monkeypatch.setattr(Plan, "from_json", lambda data: built.append(data) or build(data))
    rows.plan_of.cache_clear()
    again = await h.say("/release status")
    assert again.reply is not None
    assert plain_lines(again.reply, en) == plain_lines(out.reply, en)
    assert len(built) == 1
