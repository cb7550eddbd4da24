"""DingTalk end to end: signed callbacks to the real /dingtalk/callback route, answers
through the session webhook, news through signed custom robots, the 20-a-minute limit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from storage.models import AuditEntry, SeenEvent
from tests.fakes.robot_world import World, make_world

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(database_url, tmp_path / "config", platforms=("dingtalk",))
    yield built
    await built.close()


def count(world: World, model: type) -> int:
    with Session(world.app.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def test_a_command_after_the_mention_is_answered_through_the_session_webhook(
    world: World,
) -> None:
    response = await world.callback("@Shipwatch /release status")
    assert response.status == 200
    [answer] = world.dingtalk_robots.to("session:s-cid-releases")
    assert answer.body["msgtype"] == "markdown"
    assert "No release" in answer.text or "release" in answer.text.lower()
    assert world.dingtalk_robots.refused == []


async def test_a_replayed_msg_id_changes_nothing(world: World) -> None:
    await world.callback("/release start web 1.4.2", msg_id="msg-once")
    starts = count(world, AuditEntry)
    posts = len(world.dingtalk_robots.received)
    again = await world.callback("/release start web 1.4.2", msg_id="msg-once")
    assert again.status == 200
    assert count(world, AuditEntry) == starts
    assert len(world.dingtalk_robots.received) == posts, "no second answer either"


@pytest.mark.parametrize(
    ("how", "status"),
    [("wrong secret", 403), ("stale", 403), ("missing", 401), ("future", 403)],
)
async def test_a_forged_missing_or_stale_signature_is_refused_with_nothing_stored(
    world: World, how: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    now_ms = int(world.clock.now().timestamp() * 1000)
    kwargs: dict[str, object] = {}
    if how == "wrong secret":
        kwargs["secret"] = "not-the-app-secret"
    elif how == "stale":
        kwargs["timestamp_ms"] = now_ms - 61 * 60 * 1000
    elif how == "future":
        kwargs["timestamp_ms"] = now_ms + 61 * 60 * 1000
    else:
        kwargs["headers"] = {}
    with caplog.at_level(logging.WARNING, logger="shipwatch.adapters.dingtalk"):
        response = await world.callback("/release start web 1.4.2", **kwargs)  # type: ignore[arg-type]
    assert response.status == status
    assert "error" in await response.json()
    assert count(world, AuditEntry) == 0
    assert count(world, SeenEvent) == 0
    assert world.dingtalk_robots.received == []
    refusals = [r for r in caplog.records if r.getMessage() == "dingtalk callback refused"]
    assert len(refusals) == 1


async def test_release_news_goes_to_the_channel_robot_signed(world: World) -> None:
    await world.callback("@Shipwatch /release start web 1.4.2", conversation="cid-ops")
    # Typed in a group with no conversation binding: answered in that group's session;
    # the release's news goes to #releases through its signed robot.
    assert world.dingtalk_robots.to("session:s-cid-ops")
    news = world.dingtalk_robots.to("dt-releases-token")
    assert news, world.dingtalk_robots.refused
    assert "web" in news[0].text
    assert world.dingtalk_robots.refused == []


async def test_a_group_gets_the_command_to_type_not_a_link(world: World) -> None:
    await world.callback("/release start web 1.4.2")
    await world.callback("/release status web")
    status = world.dingtalk_robots.to("session:s-cid-releases")[-1]
    assert status.body["msgtype"] == "markdown", "no actionCard links in a group"
    assert "send @Shipwatch /release promote web" in status.text
    assert "/act/" not in str(status.body)


async def test_an_expired_session_webhook_falls_back_to_the_channel_robot(world: World) -> None:
    await world.callback("/release start web 1.4.2")
    before = len(world.dingtalk_robots.to("dt-releases-token"))
    world.clock.advance(timedelta(hours=2))  # past sessionWebhookExpiredTime (90 minutes)
    await world.callback("/release status web", session="s-new")
    # The new callback brings a fresh session webhook: it is used.
    assert world.dingtalk_robots.to("session:s-new")
    assert len(world.dingtalk_robots.to("dt-releases-token")) == before
