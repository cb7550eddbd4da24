"""Ack reminders through the pipeline, on SQLite and PostgreSQL: whoever acknowledged is
reminded after ack_reminder, then ever less often (twice the wait each time, up to a
day), until the page (or its incident) is resolved; each names the next; they spend the
page budget; never turns them off; /resolve ends a page of no incident."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config.directory import DEFAULTS
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
