"""The one road: parse, authorize, handle, write effects, commit, reply — on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import ActionToken, AuditEntry, OutboxMessage, Reminder, SeenEvent, Timer
from tests.conftest import HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def counts(engine: object) -> dict[str, int]:
    with Session(engine) as session:  # type: ignore[arg-type]
        found = {
            m.__name__: count(session, m)
            for m in (Reminder, OutboxMessage, AuditEntry, ActionToken, SeenEvent)
        }
        # Every team's next handoff, the shipped reports (with their asks for notes) and
        # the housekeeping sweep are armed at start; count the timers commands armed.
        at_start = ("oncall.handoff", "summary.due", "summary.notes_due", "housekeeping.sweep")
        query = select(func.count()).select_from(Timer).where(col(Timer.kind).not_in(at_start))
        found["Timer"] = session.exec(query).one()
        return found


async def test_reminder_is_posted_after_its_delay(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    outcome = await h.say("/remind 10m check the canary dashboards")
    assert outcome.status == "ok"
    assert "Reminder #1 set for 2026-11-23 01:10 UTC (in 10m)" in h.reply_text(outcome)
    assert outcome.armed
    assert outcome.armed[0][0] == "reminder:1"

    await h.advance(minutes=9, seconds=59)
    assert h.adapter.sent == []
    await h.advance(seconds=1)
    assert [(s.kind, s.address) for s in h.adapter.sent] == [("post", "#ops")]
    assert h.adapter.sent[0].lines == ["⏰ Reminder from @alice:", "check the canary dashboards"]

    await h.advance(hours=1)
    assert len(h.adapter.sent) == 1, "a timer fires once"


async def test_state_change_is_audited_with_who_and_what(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/remind 5m deploy window opens", user="bob")
    with Session(h.app.engine) as session:
        entry = session.exec(select(AuditEntry)).one()
    assert (entry.actor, entry.command, entry.outcome) == ("bob", "remind", "ok")
    assert entry.text == "/remind 5m deploy window opens"
    assert entry.conversation == "console:#ops"


async def test_person_without_role_is_denied_and_audited(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    outcome = await h.say("/remind 5m hello", user="mallory")
    assert outcome.status == "denied"
    assert "needs the responder role" in h.reply_text(outcome)
    found = counts(h.app.engine)
    assert found["Reminder"] == 0
    assert found["Timer"] == 0
    with Session(h.app.engine) as session:
        entry = session.exec(select(AuditEntry)).one()
    assert (entry.actor, entry.outcome, entry.detail) == ("mallory", "denied", "responder")


async def test_admin_commands_need_admin(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    assert (await h.say("/audit", user="bob")).status == "denied"
    assert (await h.say("/admin outbox", user="carol")).status == "denied"
    assert (await h.say("/audit", user="alice")).status == "ok"


async def test_unknown_platform_user_is_a_guest_who_can_read(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    who = await h.say("/whoami", user="stranger")
    assert "not in Shipwatch’s directory" in h.reply_text(who)
    assert (await h.say("/remind 5m x", user="stranger")).status == "denied"


@pytest.mark.parametrize(
    ("line", "key_part"),
    [
        ("/remind 10x check", "not a duration"),
        ("/remind 2020-01-01T10:00 check", "has already passed"),
        ("/remind 10m", "text is missing"),
        ("/remnd 10m check", "Did you mean /remind?"),
        ("/reminders cancel nine", "not a whole number"),
        ("/remind 10m " + "x" * 4000, "at most 4000"),
        ('/remind 10m "unclosed', "never closed"),
    ],
)
async def test_bad_input_is_one_sentence_and_writes_nothing(
    make_harness: HarnessFactory, line: str, key_part: str
) -> None:
    h = await make_harness()
    before = counts(h.app.engine)
    outcome = await h.say(line)
    assert outcome.status in ("usage", "refused")
    text = h.reply_text(outcome)
    assert key_part in text
    assert "Traceback" not in text
    after = counts(h.app.engine)
    assert after["Reminder"] == before["Reminder"] == 0
    assert after["Timer"] == 0
    assert after["OutboxMessage"] == 0
    assert after["ActionToken"] == 0


async def test_refusals_speak_the_channel_language(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/config locale zh", user="bob")
    outcome = await h.say("/remind 10x check")
    assert "不是时长" in h.reply_text(outcome)
    assert "用法：/remind" in h.reply_text(outcome)


async def test_same_event_id_twice_changes_nothing(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    first = await h.say("/remind 10m once only", event_id="Ev123")
    second = await h.say("/remind 10m once only", event_id="Ev123")
    assert first.status == "ok"
    assert second.status == "duplicate"
    assert second.reply is None
    found = counts(h.app.engine)
    assert found["Reminder"] == 1
    assert found["Timer"] == 1
    assert found["SeenEvent"] == 1
    third = await h.say("/remind 10m once only", event_id="Ev124")
    assert third.status == "ok"


async def test_cancel_button_cancels_and_the_reminder_never_fires(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    outcome = await h.say("/remind 10m stand-up")
    assert outcome.reply is not None
    token = outcome.reply.buttons[0].action_id
    assert token
    assert len(token.encode()) <= 64, "button payloads stay short (Telegram allows 64 bytes)"
    pressed = await h.press(token)
    assert pressed.status == "ok"
    assert "Reminder #1 cancelled" in h.reply_text(pressed)
    await h.advance(minutes=30)
    assert h.adapter.sent == []
    again = await h.press(token)
    assert "already cancelled" in h.reply_text(again)


async def test_only_author_or_admin_cancels(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/remind 10m bob's reminder", user="bob")
    refused = await h.say("/reminders cancel 1", user="carol")
    assert refused.status == "refused"
    assert "belongs to @bob" in h.reply_text(refused)
    assert (await h.say("/reminders cancel 1", user="alice")).status == "ok"


async def test_unknown_and_expired_buttons(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    assert "not known here" in h.reply_text(await h.press("nope"))
    outcome = await h.say("/remind 30d far away")
    assert outcome.reply is not None
    token = outcome.reply.buttons[0].action_id
    await h.advance(days=8)
    assert "has expired" in h.reply_text(await h.press(token))


async def test_reminders_lists_only_this_channel(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say("/remind 10m ops thing")
    await h.say("/remind 20m release thing", channel="#releases")
    listing = h.reply_text(await h.say("/reminders"))
    assert "ops thing" in listing
    assert "release thing" not in listing


async def test_absolute_time_is_read_in_the_configured_zone(make_harness: HarnessFactory) -> None:
    h = await make_harness(timezone="Asia/Shanghai")
    outcome = await h.say("/remind 2026-11-23T09:30 coffee")
    assert "2026-11-23 09:30 UTC+8 (in 30m)" in h.reply_text(outcome)


async def test_help_is_generated_from_declarations(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    text = h.reply_text(await h.say("/help"))
    for usage in ("/remind <when> <text…>", "/reminders cancel <id>", "/audit [--limit N]"):
        assert usage in text
    # A family of many verbs is one line, so the whole list fits one chat message.
    assert "/release start|go|status|promote|" in text
    assert "/release start <service>" not in text
    assert len(text.splitlines()) < 40
    topic = h.reply_text(await h.say("/help reminders"))
    assert "/reminders cancel <id>" in topic
    assert "needs the responder role" in topic
    assert "/audit" not in topic
    zh = await h.say("/help remnders")
    assert "Did you mean “reminders”?" in h.reply_text(zh)


async def test_a_crashing_handler_rolls_back_and_answers_with_a_reference(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    import dataclasses

    from commands.core.context import CommandContext
    from commands.core.registry import CommandSpec, CommandTable, ParsedCommand
    from playbooks.effects import ArmTimer
    from playbooks.messages import Message
    from playbooks.people import Role

    def explode(ctx: CommandContext, cmd: ParsedCommand) -> Message:
        ctx.effects.append(ArmTimer(key="half", kind="x", due_at=ctx.now))
        ctx.session.add(
            Reminder(
                platform="console",
                channel="#ops",
                author="alice",
                text="half",
                due_at=ctx.now,
                created_at=ctx.now,
            )
        )
        ctx.session.flush()
        raise RuntimeError("database said something rude")

    h = await make_harness()
    crashing = CommandSpec(
        family="explode",
        verb=None,
        handler=explode,
        summary="help.help.summary",
        role=Role.RESPONDER,
        changes_state=True,
    )
    h.app.runtime = dataclasses.replace(h.app.runtime, table=CommandTable([crashing]))
    outcome = await h.say("/explode")
    text = h.reply_text(outcome)
    assert outcome.status == "error"
    assert text.startswith("Something went wrong on our side and nothing was changed.")
    assert "rude" not in text
    assert "Traceback" not in text
    found = counts(h.app.engine)
    assert (found["Reminder"], found["Timer"]) == (0, 0), "the half-written change is gone"
    with Session(h.app.engine) as session:
        entry = session.exec(select(AuditEntry)).one()
    assert entry.outcome == "error"
    assert entry.detail in text, "the reference in the reply matches the audit and the log"
    assert any(getattr(r, "ref", None) == entry.detail for r in caplog.records)


async def test_long_reminder_lists_show_the_soonest(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    for minutes in range(25, 0, -1):
        await h.say(f"/remind {minutes}m item {minutes}")
    listing = h.reply_text(await h.say("/reminders"))
    assert listing.startswith("25 reminders pending here:\nShowing the soonest 20 of 25.")
    assert "item 1 (@alice)" in listing
    assert "item 20 (@alice)" in listing
    assert "item 21 (@alice)" not in listing


@pytest.mark.parametrize("when", ["0001-01-01T00:00+01:00", "9999-12-31T23:00", "0001-01-01"])
async def test_times_at_the_edge_of_the_calendar_are_refused_plainly(
    make_harness: HarnessFactory, when: str
) -> None:
    h = await make_harness(timezone="America/New_York")
    outcome = await h.say(f"/remind {when} x")
    assert outcome.status == "usage"
    # A real time, but one that cannot be moved between zones: "too far", not "not a time".
    assert h.reply_text(outcome).startswith(f"“{when}” is too far in the past or the future")


async def test_timer_of_unknown_kind_is_left_for_a_version_that_knows_it(
    make_harness: HarnessFactory,
) -> None:
    from storage.repositories import timers
    from storage.unit_of_work import unit_of_work

    h = await make_harness()
    with unit_of_work(h.app.engine) as session:
        timers.arm(
            session,
            key="future:1",
            kind="from.the.future",
            due_at=h.clock.now(),
            payload={},
            now=h.clock.now(),
        )
    await h.advance(minutes=5)
    with unit_of_work(h.app.engine) as session:
        row = timers.get(session, key="future:1")
        assert row is not None
        assert row.state == "pending"


async def test_a_failing_timer_handler_sets_the_timer_aside(make_harness: HarnessFactory) -> None:
    import dataclasses

    from commands.core.context import TimerContext
    from storage.repositories import timers
    from storage.unit_of_work import unit_of_work

    def broken(ctx: TimerContext, timer: Timer) -> None:
        raise KeyError("payload missing")

    h = await make_harness()
    h.app.runtime = dataclasses.replace(h.app.runtime, timer_handlers={"broken": broken})
    with unit_of_work(h.app.engine) as session:
        timers.arm(
            session, key="b:1", kind="broken", due_at=h.clock.now(), payload={}, now=h.clock.now()
        )
    await h.advance(minutes=1)
    with unit_of_work(h.app.engine) as session:
        row = timers.get(session, key="b:1")
        assert row is not None
        assert row.state == "failed", "a handler bug is not retried forever"
