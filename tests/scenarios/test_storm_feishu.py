"""Feishu in an alert storm: custom bots that allow 5 messages a second and 100 a minute
(9499 past them) and refuse request bodies past 20 KB (19036)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.robot_world import World, make_world
from tests.fakes.storm import ALERT_TOKEN, PAGES, TIMELINE_EVENTS, StormRun, left_out

PEOPLE = ("alice", "bob", "carol", "mallory")
# Every page reaches its person within this, measured on the virtual clock from the page's
# creation to the bot's receipt: each person has a bot of their own, paced by Shipwatch
# within Feishu's rate, so a page never waits behind the channel's alert posts.
PAGE_BOUND = timedelta(seconds=5)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(
        database_url,
        tmp_path / "config",
        platforms=("feishu",),
        events=True,
        direct=tuple(f"ou_{p}" for p in PEOPLE),
        alertmanager_token=ALERT_TOKEN,
    )
    yield built
    await built.close()


async def test_a_storm_on_feishu_pages_everyone_in_time_and_loses_nothing(world: World) -> None:
    storm = StormRun(
        world.app,
        world.base_url,
        world.client,
        platform="feishu",
        actor="ou_alice",
        channel="#incidents",
        people=PEOPLE,
    )
    figures = await storm.run()
    assert (figures.alerts, figures.incidents) == (1000, 4), "folded into one per service"
    assert figures.timeline_events >= TIMELINE_EVENTS

    bots = world.feishu_bots
    await world.feishu_event("@_user_1 /incident timeline 1", chat="oc_releases")
    await storm.drain()
    answers = bots.to("fs-releases-hook")
    assert len(answers) == 1, f"the timeline was answered once; refused: {bots.refused}"
    answer = answers[0]
    figures.timeline_parts, figures.timeline_left_out = 1, left_out(answer.text)
    assert figures.timeline_left_out > 0, "shortened, with a note of what was left out"

    storm.measure_pages(lambda handle: [(c.text, c.at) for c in bots.to(f"fs-ou_{handle}-hook")])
    figures.posts.update(c.hook.removeprefix("fs-").removesuffix("-hook") for c in bots.received)
    figures.throttled = len([code for _, code in bots.refused if code in (9499, 11232)])
    figures.rejected_for_size = len([code for _, code in bots.refused if code == 19036])
    print(figures.line())

    assert [r.state for r in storm.outbox() if r.state != "sent"] == [], "every message sent"
    assert [r.attempts for r in storm.outbox() if r.attempts != 1] == [], (
        "sent at the first attempt: no rate-limit wait counted as one"
    )
    assert figures.rejected_for_size == 0
    assert figures.throttled == 0, "Shipwatch keeps to 5/s, 100/min"
    assert len(figures.page_latency) == PAGES, "every page reached its person"
    assert figures.latency_max() <= PAGE_BOUND
