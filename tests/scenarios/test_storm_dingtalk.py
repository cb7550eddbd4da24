"""DingTalk in an alert storm: custom robots that allow 20 messages a minute and then hold
a robot back for ten minutes (130101, then 410100), and refuse bodies past 20,000 bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakes.robot_world import World, make_world
from tests.fakes.storm import ALERT_TOKEN, PAGES, TIMELINE_EVENTS, StormRun, left_out

PEOPLE = ("alice", "bob", "carol", "mallory")
# Every page reaches its person within this, measured on the virtual clock from the page's
# creation to the robot's receipt. Each person has a robot of their own, paced by
# Shipwatch at 20 a minute, so a page never waits behind the channel's alert posts.
PAGE_BOUND = timedelta(seconds=5)


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(
        database_url,
        tmp_path / "config",
        platforms=("dingtalk",),
        direct=tuple(f"staff-{p}" for p in PEOPLE),
        alertmanager_token=ALERT_TOKEN,
    )
    yield built
    await built.close()


async def test_a_storm_on_dingtalk_pages_everyone_in_time_and_loses_nothing(
    world: World,
) -> None:
    storm = StormRun(
        world.app,
        world.base_url,
        world.client,
        platform="dingtalk",
        actor="staff-alice",
        channel="#incidents",
        people=PEOPLE,
    )
    figures = await storm.run()
    assert (figures.alerts, figures.incidents) == (1000, 4), "folded into one per service"
    assert figures.timeline_events >= TIMELINE_EVENTS

    await world.callback("/incident timeline 1", conversation="cid-incidents")
    await storm.drain()
    robots = world.dingtalk_robots
    answers = [r for r in robots.received if r.robot == "session:s-cid-incidents"]
    assert len(answers) == 1, f"the timeline was answered once; refused: {robots.refused}"
    answer = answers[0]
    figures.timeline_parts, figures.timeline_left_out = 1, left_out(answer.text)
    assert figures.timeline_left_out > 0, "shortened, with a note of what was left out"

    storm.measure_pages(
        lambda handle: [(r.text, r.at) for r in robots.to(f"dt-staff-{handle}-token")]
    )
    figures.posts.update(
        r.robot.removeprefix("dt-").removesuffix("-token") for r in robots.received
    )
    figures.throttled = len([code for _, code in robots.refused if code in (130101, 410100)])
    figures.rejected_for_size = len([code for _, code in robots.refused if code == 460101])
    print(figures.line())

    assert [r.state for r in storm.outbox() if r.state != "sent"] == [], "every message sent"
    assert [r.attempts for r in storm.outbox() if r.attempts != 1] == [], (
        "sent at the first attempt: no rate-limit wait counted as one"
    )
    assert figures.rejected_for_size == 0
    assert figures.throttled == 0, "Shipwatch keeps to 20 a minute"
    assert len(figures.page_latency) == PAGES, "every page reached its person"
    assert figures.latency_max() <= PAGE_BOUND
