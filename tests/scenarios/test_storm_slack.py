"""Slack in an alert storm: a Web API that keeps chat.postMessage to about one message a
second per channel (short bursts allowed; 429 with Retry-After past it) and refuses
Block Kit past Slack's limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import adapters
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.http import serve
from bot.settings import Settings
from storage import migrate
from storage.engine import make_engine
from tests.bot.adapters.test_slack import SECRET, Rig, blocks_of, texts
from tests.conftest import START
from tests.fakes.chat_people import PEOPLE as IDS
from tests.fakes.chat_people import chat_config
from tests.fakes.slack_api import FakeSlack
from tests.fakes.storm import ALERT_TOKEN, PAGES, TIMELINE_EVENTS, StormRun, left_out

PEOPLE = ("alice", "bob", "carol", "dave")
# Every page reaches its person within this, measured on the virtual clock from the page's
# creation to Slack's receipt. A page goes to the person's own direct conversation, whose
# rate no channel post spends.
PAGE_BOUND = timedelta(seconds=5)


@dataclass
class StormRig:
    rig: Rig
    base_url: str


@pytest.fixture
async def slack(tmp_path: Path, database_url: str) -> AsyncIterator[StormRig]:
    clock = VirtualClock(START)
    fake = FakeSlack(enforce_rates=True, now=lambda: clock.now().timestamp())
    api_url = await fake.start()
    config = load(chat_config(tmp_path / "config", first="slack"))
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        alertmanager_token=ALERT_TOKEN,
    )
    engine = make_engine(database_url)
    migrate.upgrade(engine)
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
        url = f"http://127.0.0.1:{port}"
        yield StormRig(Rig(app, fake, f"{url}/slack/events", client, clock), url)
    await app.stop()
    await runner.cleanup()
    await fake.stop()
    engine.dispose()


async def test_a_storm_on_slack_pages_everyone_in_time_and_loses_nothing(slack: StormRig) -> None:
    rig = slack.rig
    storm = StormRun(
        rig.app,
        slack.base_url,
        rig.client,
        platform="slack",
        actor=IDS["alice"]["slack"],
        channel="#incidents",
        people=PEOPLE,
    )
    figures = await storm.run()
    assert (figures.alerts, figures.incidents) == (1000, 4), "folded into one per service"
    assert figures.timeline_events >= TIMELINE_EVENTS

    await rig.command("/incident", "timeline 1")
    [answer] = await rig.fake.wait_for("respond")
    await storm.drain()
    shown = texts(blocks_of(answer.params))
    figures.timeline_parts, figures.timeline_left_out = 1, left_out(shown)
    assert figures.timeline_left_out > 0, "shortened, with a note of what was left out"

    def received(handle: str) -> list[tuple[str, datetime]]:
        user = IDS[handle]["slack"]
        return [
            (json.dumps(c.params, ensure_ascii=False), datetime.fromtimestamp(c.at, UTC))
            for c in rig.fake.of("chat.postMessage")
            if c.params.get("channel") == user
        ]

    storm.measure_pages(received)
    figures.posts.update(str(c.params.get("channel")) for c in rig.fake.of("chat.postMessage"))
    figures.posts["response_url"] += len(rig.fake.of("respond"))
    figures.throttled = len(rig.fake.of("chat.postMessage!ratelimited"))
    figures.rejected_for_size = len([c for c in rig.fake.calls if c.method.endswith("!rejected")])
    print(figures.line())

    assert [r.state for r in storm.outbox() if r.state != "sent"] == [], "every message sent"
    assert [r.attempts for r in storm.outbox() if r.attempts != 1] == [], (
        "sent at the first attempt: no rate-limit wait counted as one"
    )
    assert figures.rejected_for_size == 0
    assert len(figures.page_latency) == PAGES, "every page reached its person"
    assert figures.latency_max() <= PAGE_BOUND
