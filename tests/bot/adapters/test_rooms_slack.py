"""Incident rooms on Slack: the real AsyncWebClient against the local fake Web API, from a
slash command to conversations.create, invite, setTopic, pins.add and archive, and the
refusals (missing_scope, not_in_channel) that keep the shared channel."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import adapters
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import DEFAULTS, load
from bot.http import serve
from bot.settings import Settings
from storage import migrate
from storage.engine import make_engine
from storage.models import IncidentRoom
from storage.unit_of_work import unit_of_work
from tests.bot.adapters.test_slack import SECRET, Rig, blocks_of, texts
from tests.conftest import START
from tests.fakes.chat_people import chat_config
from tests.fakes.slack_api import Failure, FakeSlack


def with_rooms(folder: Path) -> Path:
    text = (DEFAULTS / "severity.yaml").read_text(encoding="utf-8")
    (folder / "severity.yaml").write_text(
        text.replace("severities: []", "severities: [P0, P1, P2]"), encoding="utf-8"
    )
    return folder


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    fake = FakeSlack()
    api_url = await fake.start()
    config = load(with_rooms(chat_config(tmp_path / "config", first="slack")))
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
    )
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    clock = VirtualClock(START)
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=clock,
        adapters=adapters.build(settings, config),
        seed=0,
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    await app.start()
    async with aiohttp.ClientSession() as client:
        yield Rig(app, fake, f"http://127.0.0.1:{port}/slack/events", client, clock)
    await app.stop()
    await runner.cleanup()
    await fake.stop()
    engine.dispose()


def posted_in(rig: Rig, channel: str) -> list[str]:
    return [
        texts(blocks_of(c.params))
        for c in rig.fake.of("chat.postMessage")
        if c.params["channel"] == channel
    ]


def room(rig: Rig) -> IncidentRoom:
    with unit_of_work(rig.app.engine) as session:
        found = session.get(IncidentRoom, 1)
        assert found is not None
        session.expunge(found)
        return found


async def open_p1(rig: Rig) -> None:
    await rig.command("/incident", 'open "Checkout returns 500" --sev P1 --service web')
    await rig.fake.wait_for("respond")
    await rig.app.settle()


async def test_a_p1_gets_a_channel_with_its_people_a_pinned_summary_and_is_archived(
    rig: Rig,
) -> None:
    await open_p1(rig)
    [create] = rig.fake.of("conversations.create")
    assert create.params["name"] == "inc-1-checkout-returns-500"
    assert room(rig).platform_id == "C0ROOM1"
    [topic] = rig.fake.of("conversations.setTopic")
    assert topic.params["topic"] == "#1 [P1] Checkout returns 500"
    summary, opening = posted_in(rig, "C0ROOM1")[:2]
    assert "Incident #1: Checkout returns 500" in summary
    assert "opened by <@U0ALICE>" in opening
    [pin] = rig.fake.of("pins.add")
    first = next(c for c in rig.fake.of("chat.postMessage") if c.params["channel"] == "C0ROOM1")
    assert (pin.params["channel"], pin.params["timestamp"]) == ("C0ROOM1", first.answer["ts"])
    # The reporter and the paged on-call person are brought in.
    [invite] = rig.fake.of("conversations.invite")
    assert invite.params["users"] == "U0ALICE,U0BOB"
    # #incidents and #tech hear one line naming the room.
    assert posted_in(rig, "incidents") == [
        "Incident #1 [P1] Checkout returns 500 has its own room: #inc-1-checkout-returns-500."
    ]
    # In the room, no id: carol acknowledges and is brought in; the summary is edited.
    await rig.command("/incident", "ack", user="U0CAROL", channel="C0ROOM1")
    await rig.fake.wait_for("respond", count=2)
    await rig.app.settle()
    assert rig.fake.of("conversations.invite")[-1].params["users"] == "U0CAROL"
    [edit] = rig.fake.of("chat.update")
    assert edit.params["ts"] == first.answer["ts"]
    assert "acknowledged" in texts(blocks_of(edit.params))
    assert "<@U0ALICE>" in texts(blocks_of(edit.params))  # the commander
    await rig.command("/incident", "resolve", user="U0CAROL", channel="C0ROOM1")
    await rig.fake.wait_for("respond", count=3)
    await rig.command("/incident", "close", user="U0ALICE", channel="C0ROOM1")
    await rig.fake.wait_for("respond", count=4)
    await rig.app.settle()
    assert rig.fake.of("conversations.archive") == []
    await rig.app.advance_to(rig.clock.now() + timedelta(hours=1, minutes=1))
    [archive] = rig.fake.of("conversations.archive")
    assert archive.params["channel"] == "C0ROOM1"
    assert room(rig).state == "closed"


async def test_missing_scope_keeps_the_shared_channel_and_is_said_once(rig: Rig) -> None:
    rig.fake.fail(
        "conversations.create",
        Failure(error="missing_scope"),
        Failure(error="missing_scope"),
    )
    await open_p1(rig)
    await rig.command("/incident", 'open "Search is slow" --sev P2 --service web')
    await rig.fake.wait_for("respond", count=2)
    await rig.app.settle()
    assert room(rig).state == "fallback"
    shared = posted_in(rig, "incidents")
    refusals = [p for p in shared if "could not make a room" in p]
    assert len(refusals) == 1
    assert "(missing_scope)" in refusals[0]
    assert any("Incident #1 [P1] opened by <@U0ALICE>" in p for p in shared)
    assert any("Incident #2 [P2] opened by <@U0ALICE>" in p for p in shared)
    assert rig.fake.of("conversations.invite") == []


async def test_not_in_channel_on_invite_leaves_the_room_working(rig: Rig) -> None:
    rig.fake.fail("conversations.invite", Failure(error="not_in_channel"))
    await open_p1(rig)
    assert room(rig).state == "open"
    assert rig.fake.of("conversations.invite!failed")
    assert any("opened by <@U0ALICE>" in p for p in posted_in(rig, "C0ROOM1"))


def test_the_shipped_default_makes_no_rooms(tmp_path: Path) -> None:
    shutil.copytree(DEFAULTS, tmp_path / "shipped")
    assert load(tmp_path / "shipped").incidents.rooms.severities == frozenset()
