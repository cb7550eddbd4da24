"""Incident rooms on Feishu: a group the app creates (im/v1/chats), its members added
(im/v1/chats/:id/members), the summary pinned (im/v1/pins) and the chat closed to new
messages (moderation) after the grace, against the local fake Open API; a scope the app
lacks, or no app at all (custom bots cannot create chats), keeps the shared chat."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config.directory import DEFAULTS
from storage.models import IncidentRoom
from storage.unit_of_work import unit_of_work
from tests.fakes.feishu_app import card_text
from tests.fakes.robot_world import World, make_world


def with_rooms(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (DEFAULTS / "severity.yaml").read_text(encoding="utf-8")
    (folder / "severity.yaml").write_text(
        text.replace("severities: []", "severities: [P0, P1, P2]").replace(
            'management: ["@dave"]', "management: []"
        ),
        encoding="utf-8",
    )
    return folder


def room(world: World) -> IncidentRoom:
    with unit_of_work(world.app.engine) as session:
        found = session.get(IncidentRoom, 1)
        assert found is not None
        session.expunge(found)
        return found


async def open_p1(world: World) -> None:
    outcome = await world.say(
        '/incident open "checkout returns 500" --sev P1 --service web',
        platform="feishu",
        user="ou_alice",
        channel="#ops",
    )
    assert outcome.status == "ok", outcome


async def test_a_p1_gets_a_group_with_its_people_and_is_closed_after_the_grace(
    database_url: str, tmp_path: Path
) -> None:
    world = await make_world(
        database_url, with_rooms(tmp_path / "config"), platforms=("feishu",), apps=True
    )
    try:
        api = world.feishu_api
        await open_p1(world)
        [made] = api.made
        assert made["name"] == "inc-1-checkout-returns-500"
        assert made["description"] == "#1 [P1] checkout returns 500"
        assert room(world).platform_id == "oc_room1"
        summary, opening = api.to("oc_room1")[:2]
        assert "Incident #1: checkout returns 500" in card_text(summary.card)
        assert "opened by" in card_text(opening.card)
        assert api.pinned == ["om_1"]
        assert api.members["oc_room1"] == ["ou_alice"]  # the reporter (no team pages here)
        [line] = world.feishu_bots.to("fs-incidents-hook")
        assert "has its own room: #inc-1-checkout-returns-500" in line.text
        # In the group, no id: carol acknowledges and is added.
        outcome = await world.say(
            "/incident ack", platform="feishu", user="ou_carol", channel="oc_room1"
        )
        assert outcome.status == "ok", outcome
        assert "ou_carol" in api.members["oc_room1"]
        assert api.edits  # the pinned summary, edited
        for text, user in (("/incident resolve 1", "ou_carol"), ("/incident close 1", "ou_alice")):
            outcome = await world.say(text, platform="feishu", user=user, channel="#ops")
            assert outcome.status == "ok", outcome
        await world.app.advance_to(world.clock.now() + timedelta(minutes=61))
        assert api.moderated == {"oc_room1": "only_owner"}
        assert room(world).state == "closed"
    finally:
        await world.close()


async def test_a_missing_scope_keeps_the_shared_chat_and_is_said_once(
    database_url: str, tmp_path: Path
) -> None:
    world = await make_world(
        database_url, with_rooms(tmp_path / "config"), platforms=("feishu",), apps=True
    )
    try:
        world.feishu_api.refuse_chats = 99991672
        await open_p1(world)
        await open_p1(world)
        assert room(world).state == "fallback"
        texts = [card.text for card in world.feishu_bots.to("fs-incidents-hook")]
        refusals = [text for text in texts if "could not make a room" in text]
        assert len(refusals) == 1
        assert "99991672" in refusals[0]
        assert sum("opened by" in text for text in texts) == 2
    finally:
        await world.close()


async def test_custom_bots_alone_cannot_make_a_group(database_url: str, tmp_path: Path) -> None:
    world = await make_world(database_url, with_rooms(tmp_path / "config"), platforms=("feishu",))
    try:
        await open_p1(world)
        assert room(world).state == "fallback"
        texts = [card.text for card in world.feishu_bots.to("fs-incidents-hook")]
        assert any("a custom bot cannot create chats" in text for text in texts)
    finally:
        await world.close()
