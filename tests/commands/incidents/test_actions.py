"""/incident action through the pipeline, on a virtual clock, on SQLite and PostgreSQL: an
action reaches its owner, shows in the card, the postmortem and /me, reminds its owner
the day before, on the day and weekly until done, and keeps its incident from closing."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from storage.models import IncidentAction, IncidentEvent, OutboxMessage, Timer
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
REMINDER = "Your action #1"


def stored(h: Harness) -> tuple[int, int, int, int]:
    """Actions, timeline lines, outbox rows and timers: what a refusal must not add to."""
    with unit_of_work(h.app.engine) as session:
        return (
            len(session.exec(select(IncidentAction)).all()),
            len(session.exec(select(IncidentEvent)).all()),
            len(session.exec(select(OutboxMessage)).all()),
            len(session.exec(select(Timer)).all()),
        )


def directs(h: Harness, person: str, starting: str = "") -> list[str]:
    return [
        s.text
        for s in h.adapter.sent
        if s.kind == "direct" and s.address == person and s.text.startswith(starting)
    ]


async def opened(make_harness: HarnessFactory, severity: str = "P1") -> Harness:
    h = await make_harness()
    out = await h.say(f'/incident open "checkout returns 500" --sev {severity}', user="carol")
    assert out.status == "ok", h.reply_text(out)
    return h


async def test_an_action_reaches_its_owner_and_shows_everywhere(
    make_harness: HarnessFactory,
) -> None:
    h = await opened(make_harness)
    out = await h.say(
        "/incident action add 1 add a canary for checkout --owner @bob --due 2026-11-30",
        user="carol",
    )
    assert out.status == "ok", h.reply_text(out)
    assert "Action #1 on incident #1 for @bob (P1, due 2026-11-30):" in h.reply_text(out)
    told = directs(h, "bob", "@carol gave you action #1")
    assert len(told) == 1
    assert "add a canary for checkout" in told[0]
    show = h.reply_text(await h.say("/incident show 1"))
    assert "Action #1 (P1)" in show
    assert "@bob: add a canary for checkout (due 2026-11-30)" in show
    draft = h.reply_text(await h.say("/incident postmortem 1"))
    assert "- [ ] #1 P1 @bob: add a canary for checkout (due 2026-11-30)" in draft
    assert "- [ ] _To be written._" not in draft
    me = h.reply_text(await h.say("/me", user="bob"))
    assert "Your open follow-up actions (1):" in me
    assert "#1 (incident #1) P1 @bob: add a canary for checkout (due 2026-11-30)" in me
    assert "follow-up actions" not in h.reply_text(await h.say("/me", user="carol"))
    listed = h.reply_text(await h.say("/incident action list --mine", user="bob"))
    assert "Follow-up actions (1):" in listed
    assert "No follow-up actions here." in h.reply_text(
        await h.say("/incident action list --mine", user="carol")
    )
    done = await h.say('/incident action done 1 --note "canary live"', user="bob")
    assert "Action #1 on incident #1 done by @bob" in h.reply_text(done)
    assert "- [x] #1 P1 @bob" in h.reply_text(await h.say("/incident postmortem 1"))
    assert "No follow-up actions here." in h.reply_text(await h.say("/incident action list --open"))
    timeline = h.reply_text(await h.say("/incident timeline 1"))
    assert "action: #1 @bob: add a canary for checkout" in timeline
    assert "action done: #1 add a canary for checkout (canary live)" in timeline
    again = await h.say("/incident action done 1", user="bob")
    assert "Action #1 is done already." in h.reply_text(again)


async def test_the_owner_is_reminded_the_day_before_on_the_day_then_weekly_until_done(
    make_harness: HarnessFactory,
) -> None:
    # Monday 2026-11-23 09:00 in Shanghai, the zone bob reads (his team's): reminders at
    # 09:00 there.
    h = await opened(make_harness)
    await h.say("/incident action add 1 write the runbook --owner @bob --due 2026-11-25")
    await h.advance(hours=23, minutes=59)  # Tuesday 08:59
    assert directs(h, "bob", REMINDER) == []
    await h.advance(minutes=1)
    assert len(directs(h, "bob", REMINDER)) == 1
    assert "is due tomorrow (2026-11-25)" in directs(h, "bob", REMINDER)[0]
    await h.advance(hours=24)
    assert len(directs(h, "bob", REMINDER)) == 2
    assert "is due today (2026-11-25)" in directs(h, "bob", REMINDER)[1]
    await h.advance(days=6, hours=23)
    assert len(directs(h, "bob", REMINDER)) == 2  # nothing new to say in between
    await h.advance(hours=1)
    assert len(directs(h, "bob", REMINDER)) == 3
    assert "overdue since 2026-11-25 (7 days)" in directs(h, "bob", REMINDER)[2]
    await h.say("/incident action done 1", user="bob")
    await h.advance(days=8)
    assert len(directs(h, "bob", REMINDER)) == 3


async def test_a_dropped_action_stops_reminding_and_needs_a_reason(
    make_harness: HarnessFactory,
) -> None:
    h = await opened(make_harness)
    await h.say("/incident action add 1 rewrite the cache --owner @bob --due 3d")
    before = stored(h)
    refused = await h.say("/incident action drop 1", user="bob")
    assert "Say why the action is dropped with --reason" in h.reply_text(refused)
    assert stored(h) == before
    out = await h.say('/incident action drop 1 --reason "replaced by #2"', user="bob")
    assert "Action #1 on incident #1 dropped by @bob" in h.reply_text(out)
    await h.advance(days=5)
    assert directs(h, "bob", REMINDER) == []


async def test_open_p0_p1_actions_keep_the_incident_open_unless_forced(
    make_harness: HarnessFactory,
) -> None:
    h = await opened(make_harness)
    await h.say("/incident action add 1 fix the retry storm --owner @bob")
    await h.say("/incident action add 1 tidy the dashboard --owner @bob --priority P3")
    await h.say("/incident resolve 1", user="carol")
    refused = await h.say("/incident close 1", user="carol")
    assert refused.status != "ok"
    assert "Incident #1 still has 1 open P0/P1 follow-up actions (#1)" in h.reply_text(refused)
    forced = await h.say("/incident close 1 --force", user="carol")
    assert forced.status == "ok", h.reply_text(forced)
    assert "closed with open actions: #1" in h.reply_text(await h.say("/incident timeline 1"))


async def test_a_p2_incidents_actions_do_not_block_closing(make_harness: HarnessFactory) -> None:
    h = await opened(make_harness, severity="P2")
    await h.say("/incident action add 1 add an alert --owner @bob")
    await h.say("/incident resolve 1", user="carol")
    out = await h.say("/incident close 1", user="carol")
    assert out.status == "ok", h.reply_text(out)


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        (
            "/incident action add 1 write it down --owner @zed",
            "There is nobody called “zed”",
        ),
        (
            "/incident action add 1 write it down --owner @bob --due 2026-11-22",
            "The due date 2026-11-22 is in the past (today is 2026-11-23)",
        ),
        (
            "/incident action add 1 write it down --owner @bob --due someday",
            "“someday” is not a due date",
        ),
        ("/incident action add 1 --owner @bob", "Say what is to be done"),
        ("/incident action add 1 write it down", "Say who owns the action"),
        ("/incident action add 9 write it down --owner @bob", "There is no incident #9"),
        ("/incident action done 7", "There is no action #7"),
        ('/incident action drop 7 --reason "no"', "There is no action #7"),
        ("/incident action done", "Say which action, by its number"),
        (
            "/incident action done 1 --owner @bob",
            "There is no option --owner here. Options: --note.",
        ),
    ],
)
async def test_bad_input_gets_one_sentence_and_writes_nothing(
    make_harness: HarnessFactory, line: str, sentence: str
) -> None:
    h = await opened(make_harness)
    before = stored(h)
    out = await h.say(line, user="carol")
    assert out.status != "ok"
    assert sentence in h.reply_text(out)
    assert "Traceback" not in h.reply_text(out)
    assert stored(h) == before


async def test_bad_input_reads_in_chinese(make_harness: HarnessFactory) -> None:
    h = await opened(make_harness)
    await h.say("/config locale zh")
    out = await h.say("/incident action add 1 写下来 --owner @bob --due 2026-11-01", user="carol")
    assert "截止日期 2026-11-01 已经过去" in h.reply_text(out)


async def test_only_responders_change_actions(make_harness: HarnessFactory) -> None:
    h = await opened(make_harness)
    out = await h.say("/incident action add 1 write it down --owner @bob", user="mallory")
    assert out.status == "denied" or "responder" in h.reply_text(out)
    listed = await h.say("/incident action list", user="mallory")
    assert listed.status == "ok"


async def test_a_reminder_is_sent_once_with_two_replicas(make_harness: HarnessFactory) -> None:
    h = await opened(make_harness)
    await h.say("/incident action add 1 write the runbook --owner @bob --due 2026-11-25")
    other = await make_harness(start=h.clock.now())  # a second replica on the same database
    # Both reach Tuesday 09:00 in Shanghai (the day-before reminder) at the same time.
    await asyncio.gather(h.advance(hours=24), other.advance(hours=24))
    told = directs(h, "bob", REMINDER) + directs(other, "bob", REMINDER)
    assert len(told) == 1
    with unit_of_work(h.app.engine) as session:
        [timer] = session.exec(select(Timer).where(Timer.key == "incident-action:1")).all()
        assert timer.state == "pending"  # moved on to the day itself, armed once
        assert timer.due_at.isoformat() == "2026-11-25T01:00:00+00:00"


async def test_an_owner_in_the_channel_where_it_is_added_reads_it_there_only(
    make_harness: HarnessFactory,
) -> None:
    h = await opened(make_harness)
    out = await h.say("/incident action add 1 fix the cache --owner @bob", channel="#web")
    assert "Action #1 on incident #1 for @bob" in h.reply_text(out)
    assert directs(h, "bob", "@alice gave you action #1") == []
