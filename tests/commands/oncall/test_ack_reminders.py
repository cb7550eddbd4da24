"""Ack reminders through the pipeline, on SQLite and PostgreSQL: whoever acknowledged is
reminded after ack_reminder, then ever less often (twice the wait each time, up to a
day), until the page (or its incident) is resolved; each names the next; they spend the
page budget; never turns them off; /resolve ends a page of no incident; a person's
reminders due together are one message, also when two replicas fire them."""

from __future__ import annotations

import asyncio
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config.directory import DEFAULTS
from commands.core import pipeline
from commands.core.invocations import Outcome, TimerFired
from playbooks.oncall.paging import remind_key
from storage.models import Timer
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory

pytestmark = pytest.mark.usefixtures("database_url")
REMINDER = "⏳ Page #1"


def reminders(h: Harness, person: str = "bob") -> list[str]:
    return [
        s.text
        for s in h.adapter.sent
        if s.kind == "direct" and s.address == person and s.text.startswith(REMINDER)
    ]


async def test_the_acknowledger_is_reminded_until_the_page_is_resolved(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.say('/page web "cron backlog"')
    await h.say("/ack 1", user="bob")
    await h.advance(minutes=29)
    assert reminders(h) == []
    await h.advance(minutes=1)
    assert len(reminders(h)) == 1
    assert "for 30m now. When it is over: /resolve 1." in reminders(h)[0]
    # bob has no timezone of his own: he reads his team's (web, Shanghai).
    assert "Next reminder at 2026-11-23 10:00 UTC+8" in reminders(h)[0]
    await h.advance(minutes=30)
    assert len(reminders(h)) == 2
    assert "Next reminder at 2026-11-23 11:00 UTC+8" in reminders(h)[1]
    await h.advance(minutes=59)
    assert len(reminders(h)) == 2  # backed off: an hour this time
    await h.advance(minutes=1)
    assert len(reminders(h)) == 3
    refused = await h.say("/resolve 1", user="mallory")  # neither paged nor a responder
    assert refused.status == "denied"
    out = await h.say("/resolve 1", user="bob")
    assert "Page #1 (cron backlog) resolved by @bob." in h.reply_text(out)
    told = [s.text for s in h.adapter.sent if s.kind == "post" and s.address == "#web"]
    assert "Page #1 (cron backlog) resolved by @bob." in told
    await h.advance(hours=3)
    assert len(reminders(h)) == 3
    again = await h.say("/resolve 1", user="bob")
    assert "Page #1 is resolved already." in h.reply_text(again)


async def test_a_reminder_spends_the_page_budget(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/page web "cron backlog"')
    await h.say("/ack 1", user="bob")
    await h.advance(minutes=25)
    for n in range(2, 7):  # five pages for bob: his budget (5 per 10m) is spent
        await h.say(f'/page @bob "disk {n}"')
    await h.advance(minutes=5)
    assert reminders(h) == []  # held
    await h.advance(minutes=5)
    [folded] = [s.text for s in h.adapter.sent if s.address == "bob" and "more pages" in s.text]
    assert "#1 (web): cron backlog — acknowledged" in folded


async def test_an_incident_page_reminds_until_the_incident_is_resolved(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.say('/incident open "checkout down" --sev P1 --service web')
    await h.say("/ack 1", user="bob")
    await h.advance(minutes=30)
    assert "When it is over: /incident resolve 1." in reminders(h)[0]
    out = await h.say("/resolve 1", user="bob")
    assert "resolving the incident resolves it: /incident resolve 1" in h.reply_text(out)
    await h.say("/incident resolve 1", user="bob")
    await h.advance(hours=2)
    assert len(reminders(h)) == 1


async def test_never_turns_ack_reminders_off(make_harness: HarnessFactory, tmp_path: Path) -> None:
    for source in DEFAULTS.glob("*.yaml"):
        shutil.copy(source, tmp_path / source.name)
    with (tmp_path / "teams.yaml").open("a", encoding="utf-8") as teams:
        teams.write("    ack_reminder: never\n")
    h = await make_harness(config_dir=tmp_path)
    await h.say('/page web "cron backlog"')
    await h.say("/ack 1", user="bob")
    await h.advance(hours=2)
    assert reminders(h) == []


def bobs_reminders(*harnesses: Harness) -> list[str]:
    return [
        s.text
        for h in harnesses
        for s in h.adapter.sent
        if s.kind == "direct" and s.address == "bob" and s.text.startswith("⏳")
    ]


async def test_reminders_due_together_are_one_message(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    for n in (1, 2, 3):
        await h.say(f'/page @bob "disk {n}"')
    for n in (1, 2, 3):  # acknowledged a minute apart: due a minute apart
        await h.say(f"/ack {n}", user="bob")
        await h.advance(minutes=1)
    await h.advance(minutes=27)  # 30m after the first acknowledgement
    [together] = bobs_reminders(h)
    assert together.startswith("⏳ 3 pages you acknowledged are not resolved yet:")
    assert "#1 (disk 1): acknowledged for 30m; when it is over: /resolve 1" in together
    assert "#2 (disk 2): acknowledged for 29m; when it is over: /resolve 2" in together
    assert "#3 (disk 3): acknowledged for 28m; when it is over: /resolve 3" in together
    assert "Next reminder at 2026-11-23 10:00 UTC+8" in together
    await h.advance(minutes=5)
    assert len(bobs_reminders(h)) == 1  # the other two were said with the first
    # Each page's timeline says it reminded bob; each backs off from its own due time.
    shown = h.reply_text(await h.say("/pages --id 3"))
    assert "reminded @bob: acknowledged, not resolved" in shown
    await h.advance(minutes=55)  # an hour after the first reminder
    [_, again] = bobs_reminders(h)
    assert again.startswith("⏳ 3 pages you acknowledged are not resolved yet:")
    await h.say("/resolve 2", user="bob")
    await h.advance(hours=2)
    [*_, last] = bobs_reminders(h)
    assert last.startswith("⏳ 2 pages you acknowledged")
    assert "#2 (disk 2)" not in last


async def test_reminders_due_apart_are_said_apart(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.say('/page @bob "disk 1"')
    await h.say('/page @bob "disk 2"')
    await h.say("/ack 1", user="bob")
    await h.advance(minutes=10)
    await h.say("/ack 2", user="bob")
    await h.advance(minutes=20)
    [first] = bobs_reminders(h)
    assert first.startswith("⏳ Page #1 (disk 1) is acknowledged, not resolved, for 30m now.")
    await h.advance(minutes=10)
    [_, second] = bobs_reminders(h)
    assert second.startswith("⏳ Page #2 (disk 2) is acknowledged, not resolved, for 30m now.")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_replicas_firing_one_persons_reminders_at_once_say_each_page_once(
    make_harness: HarnessFactory,
) -> None:
    """Each replica fires one of bob's reminders at the same moment, and each reaches for
    the others: every page is said once, and neither waits for the other's timer."""
    replicas = [await make_harness(), await make_harness()]
    for n in range(1, 5):  # within bob's page budget (5 per 10m)
        await replicas[0].say(f'/page @bob "disk {n}"')
        await replicas[0].say(f"/ack {n}", user="bob")
    due = replicas[0].clock.now() + timedelta(minutes=30)
    both_ready = threading.Barrier(2)

    def fire(replica: int, page: int) -> Outcome:
        both_ready.wait(timeout=10)
        fired = TimerFired(key=remind_key(page))
        return pipeline.run_timer(fired, runtime=replicas[replica].app.runtime, now=due)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = await asyncio.wait_for(
            asyncio.gather(
                asyncio.wrap_future(pool.submit(fire, 0, 1)),
                asyncio.wrap_future(pool.submit(fire, 1, 4)),
            ),
            timeout=30,
        )
    assert [o.status for o in outcomes] == ["ok", "ok"], outcomes
    for h in replicas:  # their clocks reach the moment the reminders were said
        h.clock.advance_to(due)
        await h.app.settle()
    said = "\n".join(bobs_reminders(*replicas))
    for n in range(1, 5):
        assert said.count(f"(disk {n})") == 1, said
    assert len(bobs_reminders(*replicas)) <= 2
    with unit_of_work(replicas[0].app.engine) as session:
        timers = session.exec(select(Timer).where(Timer.kind == "page.remind")).all()
    assert sorted(t.state for t in timers) == ["pending"] * 4
    assert all(t.due_at > due for t in timers)
