"""Rollback runbooks and emergency playbooks through the whole pipeline, on a virtual clock,
on SQLite and PostgreSQL: started, posted, marked, reminded, their clocks said once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.i18n import Translator
from playbooks.messages import text_from_str
from storage.models import AuditEntry, ProcedureRun
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def sent(h: Harness, needle: str) -> list[str]:
    """Where each message containing ``needle`` went."""
    return [s.address for s in h.adapter.sent if needle in s.text]


def runs(h: Harness) -> list[ProcedureRun]:
    with unit_of_work(h.app.engine) as session:
        return list(session.exec(select(ProcedureRun).order_by(ProcedureRun.id)).all())


async def live_web(make_harness: HarnessFactory) -> Harness:
    h = await make_harness(start=START)
    metrics = h.app.integrations.simulated_metrics
    metrics.set("error_rate", 0.001)
    metrics.set("p99_latency_ms", 200)
    assert (await h.say("/release start web 2.0.0")).status == "ok"
    return h


async def test_a_manual_rollback_starts_the_runbook_with_owners_reminders_and_one_clock(
    make_harness: HarnessFactory,
) -> None:
    h = await live_web(make_harness)
    await h.advance(minutes=10)
    out = await h.say("/release rollback web --reason severe-bug", channel="#releases")
    assert out.status == "ok", h.reply_text(out)
    # Posted in the release channel: every step with its duty, who holds it, its due time.
    header = "🔁 Rollback runbook #1 of web 2.0.0: back within 10m (by 2026-11-23 09:20 UTC)."
    assert sent(h, header) == ["#releases"]
    book = h.reply_text(await h.say("/release runbook web"))
    assert header in book
    assert "Started by @alice: severe-bug: 严重 Bug · a severe bug" in book
    assert "1. by T+1m (2026-11-23 09:11 UTC) New version stopped" in book
    assert "— devops (@dave): due in 1m" in book
    assert "— dba (@carol)" in book
    assert "— qa (@bob)" in book
    assert "7. by T+3d (2026-11-26 09:10 UTC) Review written · 事后总结 — owner (@alice)" in book
    assert (await h.say("/release step web 1 done", user="dave")).status == "ok"
    # Step 2 (T+5m) is not marked when it falls due: its owner is reminded, once.
    await h.advance(minutes=5)
    late = "⏰ Run #1: step 2 was due at 2026-11-23 09:15 UTC and is not marked"
    assert sorted(sent(h, late)) == ["#releases", "dave"]  # dave is not in #releases
    assert sent(h, "step 1 was due") == []  # marked in time: no reminder
    for number in (2, 3):
        assert (await h.say(f"/release step web {number} done", user="dave")).status == "ok"
    skipped = await h.say('/release step web 4 skip --note "no data damaged"', user="carol")
    assert "⏭ Run #1, step 4 skipped (@carol)" in h.reply_text(skipped)
    # The 10 minutes run out with step 5 open: said once, with what is open.
    await h.advance(minutes=5)
    breach = "⏱ Run #1 (rollback of web 2.0.0): its 10m clock ran out with these steps open:"
    assert sorted(sent(h, breach)) == ["#releases"]  # who decides (alice) is in #releases
    await h.advance(minutes=30)
    assert len(sent(h, breach)) == 1
    verified = h.reply_text(await h.say("/release step web 5 done", user="bob"))
    assert "Every step under the clock is marked, 40m after the start: 10m was missed." in verified
    again = h.reply_text(await h.say("/release step web 5 done"))
    assert again == "Step 5 is done already (by @bob)."
    await h.say("/release step web 6 done", user="alice")
    done = h.reply_text(await h.say("/release step web 7 done --note postmortem-12"))
    assert "Run #1 is complete" in done
    [row] = runs(h)
    assert row.kind == "rollback"
    assert row.closed_at is not None
    assert row.service == "web"
    closed = h.reply_text(await h.say("/playbook step 1 7 skip"))
    assert closed == "Run #1 is over: its last step was marked at 2026-11-23 09:50 UTC."
    with unit_of_work(h.app.engine) as session:
        marks = session.exec(select(AuditEntry).where(AuditEntry.command == "release step")).all()
    assert [a.detail for a in marks][-1] == "run 1 rollback: step 7 done"


async def test_an_automatic_rollback_starts_it_too_and_in_time_says_so(
    make_harness: HarnessFactory,
) -> None:
    h = await live_web(make_harness)
    h.app.integrations.simulated_metrics.set("error_rate", 0.08)
    await h.advance(minutes=6)
    [row] = runs(h)
    assert row.started_by == "alice"  # the release's owner owns its rollback runbook
    assert Translator("en", UTC)(text_from_str(row.reason)).startswith(
        "@shipwatch: guard error_rate"
    )
    assert sent(h, "🔁 Rollback runbook #1 of web 2.0.0") == ["#releases"]
    for number in range(1, 6):
        out = await h.say(f"/release step web {number} done")
    assert "within 10m" in h.reply_text(out)
    await h.advance(minutes=10)
    assert sent(h, "clock ran out") == []


async def test_a_playbook_runs_from_chat_tracked_like_a_runbook(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=START)
    listing = h.reply_text(await h.say("/playbook list"))
    assert "3 emergency playbooks" in listing
    assert "• third-party-down — 第三方服务故障 · a third-party service down" in listing
    shown = h.reply_text(await h.say("/playbook show database-down"))
    assert "Decides: ops-lead" in shown
    assert "Recovery target: 5m" in shown
    out = await h.say(
        '/playbook run third-party-down --service web --note "pay API 502s"', user="bob"
    )
    assert out.status == "ok", h.reply_text(out)
    header = "🚨 Playbook #1 第三方服务故障 · a third-party service down (web): recovery target 1h"
    # In full in the service's incident channel, where the decision owner (tech-lead:
    # alice) is too (people.yaml): no copy for her. Where it was typed, a pointer there.
    assert sorted(sent(h, header)) == ["#incidents"]
    assert h.reply_text(out) == (
        "Playbook #1 (第三方服务故障 · a third-party service down) is started; it is followed "
        "in #incidents, with its steps and buttons."
    )
    [text] = [s.text for s in h.adapter.sent if header in s.text]
    assert "Started by @bob: pay API 502s" in text
    assert "Decides: tech-lead (@alice)" in text
    assert "1. by T+5m (2026-11-23 09:05 UTC) Local fallback switched on" in text
    assert "— dev (@bob, @carol)" in text
    assert (await h.say("/playbook step 1 1 done", user="carol")).status == "ok"
    # Every 30 minutes: the progress report the plan asks for; reminders for late steps.
    await h.advance(minutes=31)
    assert len(sent(h, "time for the progress report (every 30m)")) == 1
    assert sorted(sent(h, "step 2 was due at 2026-11-23 09:10 UTC")) == ["#incidents"]
    for number in (2, 3):
        await h.say(f"/playbook step 1 {number} done")
    # The recovery target (1h) passes with step 4 open: said once.
    await h.advance(minutes=40)
    # The channel, where who started it (bob) and who decides (alice) both are.
    assert sorted(sent(h, "its 1h clock ran out")) == ["#incidents"]
    assert len(sent(h, "time for the progress report")) == 2
    finished = h.reply_text(await h.say("/playbook step 1 4 done"))
    assert "1h was missed" in finished
    assert "Run #1 is complete" in finished
    await h.advance(hours=2)
    assert len(sent(h, "time for the progress report")) == 2  # stopped with the run


async def test_playbook_mistakes_get_one_sentence_in_english_and_chinese(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=START)
    unknown = h.reply_text(await h.say("/playbook run fire"))
    assert unknown == (
        "There is no playbook “fire”; the playbooks are database-down, severe-bug, "
        "third-party-down."
    )
    assert "There is no run #7" in h.reply_text(await h.say("/playbook show 7"))
    denied = await h.say("/playbook run database-down", user="mallory")
    assert denied.status == "denied"
    assert (await h.say("/playbook run database-down")).status == "ok"
    no_step = h.reply_text(await h.say("/playbook step 1 9 done"))
    assert no_step == "Run #1 has no step 9; it has steps 1 to 4 (/playbook show 1)."
    service = h.reply_text(await h.say("/playbook run database-down --service nope"))
    assert "nope" in service
    assert runs(h)[0].name == "database-down"
    assert len(runs(h)) == 1
    assert (await h.say("/config locale zh")).status == "ok"
    assert h.reply_text(await h.say("/playbook run fire")).startswith("没有应急预案“fire”")
    assert h.reply_text(await h.say("/playbook step 1 9 done")).startswith("执行 #1 没有第 9 步")
    assert h.reply_text(await h.say("/playbook show 7")).startswith("没有执行 #7")


async def test_a_run_typed_in_its_own_channel_is_said_there_once_and_told_to_outsiders(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness(start=START)
    # severe-bug notifies #management and the release managers (alice, in #incidents).
    out = await h.say(
        '/playbook run severe-bug --service web --note "crash spike"', channel="#incidents"
    )
    header = "🚨 Playbook #1 上线后发现严重BUG · a severe bug after launch (web)"
    assert h.reply_text(out).startswith(header)  # the answer, in #incidents
    assert sorted(sent(h, header)) == ["#management"]
    # Step 4's owner (devops: dave) is not in #incidents: he is told directly when it is late.
    await h.advance(minutes=31)
    assert sorted(sent(h, "step 4 was due")) == ["#incidents", "dave"]
