"""Platforms that re-send what they have no answer to within a few seconds (Feishu's
events, DingTalk's callbacks, Telegram's button presses) are answered at once, even
while the command waits on the database; the command's reply follows as a message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.fakes.robot_world import World, make_world
from tests.fakes.sqlite_lock import WriteLock

HOLD_S = 3.0  # how long another process keeps SQLite's write lock
ANSWERED_WITHIN_S = 1.0  # Feishu and DingTalk re-send after about 3 s


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(sqlite_url, tmp_path / "config", apps=True)
    yield built
    await built.close()


def hold_the_write_lock(world: World) -> WriteLock:
    lock = WriteLock(str(make_url(str(world.app.engine.url)).database), HOLD_S)
    lock.start()
    assert lock.taken.wait(5)
    return lock


async def test_a_feishu_event_is_answered_before_its_command_runs(world: World) -> None:
    lock = hold_the_write_lock(world)
    began = time.perf_counter()
    response = await world.feishu_event("@_user_1 /release status", chat="oc_ops", settle=False)
    answered = time.perf_counter() - began
    assert response.status == 200
    assert answered < ANSWERED_WITHIN_S, f"answered after {answered:.2f} s"
    assert lock.is_alive(), "the command was still waiting on the lock when Feishu was answered"
    await asyncio.to_thread(lock.join)
    await world.settled("feishu")
    [reply] = world.feishu_api.to("oc_ops")
    assert reply.title.startswith("No release is in progress.")


async def test_a_dingtalk_callback_is_answered_before_its_command_runs(world: World) -> None:
    lock = hold_the_write_lock(world)
    began = time.perf_counter()
    response = await world.callback("/release status", settle=False)
    answered = time.perf_counter() - began
    assert response.status == 200
    assert answered < ANSWERED_WITHIN_S, f"answered after {answered:.2f} s"
    assert lock.is_alive()
    await asyncio.to_thread(lock.join)
    await world.settled("dingtalk")
    [reply] = world.dingtalk_robots.to("session:s-cid-releases")
    assert "No release is in progress." in reply.text


async def test_commands_in_one_conversation_are_answered_in_the_order_they_came(
    world: World,
) -> None:
    lock = hold_the_write_lock(world)
    for line in ("/whoami", "/release status", "/help"):
        await world.callback(line, settle=False)
    await asyncio.to_thread(lock.join)
    await world.settled("dingtalk")
    replies = [r.text for r in world.dingtalk_robots.to("session:s-cid-releases")]
    assert len(replies) == 3
    assert "alice" in replies[0]
    assert "No release is in progress." in replies[1]
    assert "/release" in replies[2]
