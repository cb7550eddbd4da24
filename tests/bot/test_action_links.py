"""One-time action links, end to end: a page's Acknowledge link opened (a page that does
nothing), confirmed (the ack runs as the recipient), replayed, expired, or someone else's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from storage.models import PageRow
from tests.fakes.robot_world import PUBLIC_URL, World, make_world

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(database_url, tmp_path / "config", platforms=("dingtalk",))
    yield built
    await built.close()


def page(world: World) -> PageRow:
    with Session(world.app.engine) as session:
        return session.exec(select(PageRow)).one()


async def acknowledge_link(world: World) -> str:
    await world.callback("/page @bob database down", user="staff-alice")
    [card] = world.dingtalk_robots.to("dt-staff-bob-token")
    assert card.body["msgtype"] == "actionCard"
    ack, escalate = card.buttons
    assert escalate["title"] == "升级"
    assert ack["title"] == "确认", "bob reads Chinese"
    assert ack["actionURL"].startswith(f"{PUBLIC_URL}/act/")
    return ack["actionURL"]


async def test_the_link_opens_a_page_that_does_nothing_and_confirms_once(world: World) -> None:
    link = await acknowledge_link(world)
    status, body = await world.open_link(link)
    assert status == 200
    assert "以 Bob Li 的身份执行 /ack 1？" in body
    assert '<form method="post">' in body
    assert page(world).state == "open", "opening the link changes nothing"

    status, body = await world.open_link(link, method="POST")
    assert status == 200
    assert "已执行：/ack 1" in body
    row = page(world)
    assert (row.state, row.acked_by) == ("acknowledged", "bob")

    for method in ("POST", "GET"):
        status, body = await world.open_link(link, method=method)
        assert status == 409
        assert "已经用过" in body


async def test_an_expired_link_runs_nothing(world: World) -> None:
    link = await acknowledge_link(world)
    await world.app.advance_to(world.clock.now() + timedelta(days=8))
    status, body = await world.open_link(link, method="POST")
    assert status == 410
    assert "已过期" in body
    assert page(world).acked_by is None


async def test_another_persons_link_is_refused(world: World) -> None:
    link = await acknowledge_link(world)
    _, _, token = world.signer.read(urlsplit(link).path.removeprefix("/act/")) or ("", "", "")
    # A genuine signature over bob's button, issued to mallory: the button is bob's alone.
    theirs = world.signer.link(token, platform="dingtalk", user_id="staff-mallory")
    status, body = await world.open_link(theirs, method="POST")
    assert status == 403
    assert "issued to someone else" in body
    assert page(world).acked_by is None


@pytest.mark.parametrize("damage", ["payload", "signature", "garbage"])
async def test_an_altered_link_is_refused(world: World, damage: str) -> None:
    link = await acknowledge_link(world)
    payload, signature = urlsplit(link).path.removeprefix("/act/").split(".")
    altered = {
        "payload": f"{payload[:-2]}xx.{signature}",
        "signature": f"{payload}.{signature[:-2]}xx",
        "garbage": "not-a-link",
    }[damage]
    status, body = await world.open_link(f"{PUBLIC_URL}/act/{altered}", method="POST")
    assert status == 403
    assert "not one Shipwatch issued" in body
    assert page(world).acked_by is None


async def test_a_reply_in_a_one_to_one_chat_carries_links_for_its_reader(world: World) -> None:
    await world.callback("/release start web 1.4.2", user="staff-alice")
    await world.callback(
        "/release status web", user="staff-alice", conversation="cid-alice", direct=True
    )
    [card] = world.dingtalk_robots.to("session:s-cid-alice")
    assert card.body["msgtype"] == "actionCard"
    pause = next(b for b in card.buttons if b["title"] == "Pause")
    status, body = await world.open_link(pause["actionURL"], method="POST")
    assert status == 200
    assert "Done: /release pause web" in body
    news = world.dingtalk_robots.to("dt-releases-token")
    assert "paused" in news[-1].text


async def test_without_a_link_secret_the_page_says_links_are_off(world: World) -> None:
    link = await acknowledge_link(world)
    world.app.settings.action_link_secret = None
    status, body = await world.open_link(link)
    assert status == 404
    assert "switched off" in body
