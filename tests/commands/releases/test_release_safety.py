"""The gates a release manager expects before traffic moves again: no start or retry into
an open P0/P1 incident, no retry while a guard still reads bad; each forced past only by a
release manager with a reason, kept in the release's history and said in its channel."""

from __future__ import annotations

from datetime import UTC

from sqlmodel import col, select

from bot.i18n import Translator
from playbooks.messages import text_from_str
from storage.models import AuditEntry, ReleaseEvent, ReleaseRow
from storage.unit_of_work import unit_of_work
from tests.commands.releases.test_release_commands import GOOD
from tests.conftest import Harness, HarnessFactory
from tests.support import releases_posts, set_metrics


def state(h: Harness) -> str:
    with unit_of_work(h.app.engine) as session:
        return session.exec(select(ReleaseRow.state)).one()


async def test_a_start_into_an_open_p1_is_refused_naming_it_unless_a_release_manager_forces(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say('/incident open "checkout 500s" --sev P1 --service web', user="bob")
    await h.say('/incident open "slow search" --sev P2 --service web', user="bob")
    await h.say('/incident open "miniapp login" --sev P0 --service miniapp', user="bob")
    refused = await h.say("/release start web 1.4.2", user="bob")
    assert refused.status == "refused"
    text = h.reply_text(refused)
    # One sentence naming the incident; the P2 and the other service's P0 hold nothing.
    assert text.startswith("Not letting web start: incident #1 (P1) is open on it: checkout 500s.")
    assert "#2" not in text
    assert "#3" not in text
    assert "--force --reason" in text
    with unit_of_work(h.app.engine) as session:
        assert session.exec(select(ReleaseRow)).all() == []
    denied = await h.say("/release start web 1.4.2 --force --reason fix", user="bob")
    assert denied.status == "denied"
    assert "release-manager" in h.reply_text(denied)
    forced = await h.say('/release start web 1.4.2 --force --reason "the fix for #1"')
    assert forced.status == "ok", h.reply_text(forced)
    said = (
        "Forced by @alice past what held it: the fix for #1\n"
        "incident #1 (P1) is open on this service: checkout 500s"
    )
    assert said in h.reply_text(forced)
    # Told in the release channel, kept in the release's history and the audit log.
    assert any(said in post for post in releases_posts(h))
    with unit_of_work(h.app.engine) as session:
        event = session.exec(select(ReleaseEvent).where(ReleaseEvent.move == "start")).one()
        assert english(event.reason) == (
            "forced: the fix for #1; it went past: "
            "incident #1 (P1) is open on this service: checkout 500s"
        )
        audit = session.exec(
            select(AuditEntry).where(
                AuditEntry.command == "release start", AuditEntry.outcome == "ok"
            )
        ).one()
        assert audit.detail.endswith("forced past incident #1 (P1) open: the fix for #1")
    history = h.reply_text(await h.say("/release history web"))
    assert "forced: the fix for #1; it went past: incident #1 (P1) is open" in history


async def test_a_resolved_incident_holds_nothing_and_the_refusal_speaks_chinese(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    set_metrics(h, GOOD)
    await h.say('/incident open "checkout 500s" --sev P0 --service web', user="bob")
    await h.say("/config locale zh")
    refused = h.reply_text(await h.say("/release start web 1.4.2"))
    assert "不允许 web 开始发布：该服务有未解决的故障 #1（P0）：checkout 500s。" in refused
    await h.say("/incident resolve 1", user="bob")
    assert (await h.say("/release start web 1.4.2")).status == "ok"


async def rolled_back_by_its_guards(h: Harness) -> None:
    """web started, then its error rate at 8% for 5 minutes: Shipwatch rolls it back."""
    set_metrics(h, GOOD)
    await h.say("/release start web 1.4.2")
    set_metrics(h, {"error_rate": 0.08})
    await h.advance(minutes=6)
    assert state(h) == "rolled_back"


async def test_a_retry_while_a_guard_still_reads_bad_is_refused_with_the_reading(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await rolled_back_by_its_guards(h)
    refused = await h.say("/release retry web", user="bob")
    assert refused.status == "refused"
    text = h.reply_text(refused)
    assert text.startswith(
        "Not letting web retry: guard error_rate_stop still reads bad, 8% (> 1%) at 2026-11-23 "
    )
    assert "\nguard error_rate read 8% (> 5%) at 2026-11-23 " in text
    assert state(h) == "rolled_back"
    forced = await h.say('/release retry web --force --reason "bad node drained"')
    assert forced.status == "ok", h.reply_text(forced)
    text = h.reply_text(forced)
    assert "Forced by @alice past what held it: bad node drained" in text
    assert "guard error_rate read 8% (> 5%) at 2026-11-23 " in text
    assert any("past what held it: bad node drained" in post for post in releases_posts(h))
    with unit_of_work(h.app.engine) as session:
        event = session.exec(select(ReleaseEvent).where(ReleaseEvent.move == "retry")).one()
        assert english(event.reason).startswith("forced: bad node drained; it went past: guard")


def english(stored: str | None) -> str:
    """A reason as its column keeps it, read as an English reader reads it."""
    assert stored is not None
    return Translator("en", UTC)(text_from_str(stored))


async def test_a_retry_with_no_current_reading_goes_ahead_and_says_so(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await rolled_back_by_its_guards(h)
    set_metrics(h, GOOD)
    # A rolled-back release is not read: after three intervals its last reading is no
    # evidence either way, so the retry goes ahead and the first stage reads at once.
    await h.advance(minutes=2)
    retried = await h.say("/release retry web", user="bob")
    assert retried.status == "ok", h.reply_text(retried)
    text = h.reply_text(retried)
    assert "bob retried web 1.4.2 (attempt 2)" in text
    unread = "No current reading of error_rate_stop, error_rate, p99_latency_ms since the rollback"
    assert unread in text
    await h.advance(minutes=1)
    status = h.reply_text(await h.say("/release status web"))
    assert "ok: 0.05%" in status


async def test_a_retry_into_an_open_p0_is_refused_first_for_the_incident(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await rolled_back_by_its_guards(h)
    await h.say('/incident open "web down" --sev P0 --service web', user="bob")
    text = h.reply_text(await h.say("/release retry web"))
    assert text.startswith("Not letting web retry: incident #1 (P0) is open on it: web down.")
    assert "\nguard error_rate read 8% (> 5%)" in text
    with unit_of_work(h.app.engine) as session:
        moves = session.exec(select(ReleaseEvent.move).order_by(col(ReleaseEvent.id))).all()
        assert moves[-1] == "rollback"
