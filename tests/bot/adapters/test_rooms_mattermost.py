"""Incident rooms on Mattermost: from a slash command to POST /channels in the team (its
purpose and header the incident's title), its people added, the summary pinned and edited,
the channel archived after the grace; a 403 keeps the shared channel, said once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.models import IncidentRoom
from storage.unit_of_work import unit_of_work
from tests.bot.adapters.test_mattermost import CHANNELS, IDS, Rig, make_rig, people
from tests.bot.adapters.test_rooms_slack import with_rooms
from tests.fakes.mattermost_api import BOT_ID, TEAM_ID, Failure


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    config = with_rooms(people(tmp_path / "config"))
    async for made in make_rig(tmp_path, database_url, config):
        yield made


def room(rig: Rig) -> IncidentRoom:
    with unit_of_work(rig.app.engine) as session:
        found = session.get(IncidentRoom, 1)
        assert found is not None
        session.expunge(found)
        return found


async def open_p1(rig: Rig, title: str = "Checkout returns 500", sev: str = "P1") -> None:
    status, answer = await rig.command("/incident", f'open "{title}" --sev {sev} --service web')
    assert (status, answer.get("response_type")) == (200, "in_channel"), answer
    await rig.app.settle()


def shared(rig: Rig) -> list[str]:
    return [p.text for p in rig.fake.posts_in(CHANNELS["incidents"])]


async def test_a_p1_gets_a_channel_with_its_people_a_pinned_summary_and_is_archived(
    rig: Rig,
) -> None:
    await open_p1(rig)
    [made] = rig.fake.made
    assert (made["team_id"], made["name"], made["type"]) == (
        TEAM_ID,
        "inc-1-checkout-returns-500",
        "P",
    )
    assert made["purpose"] == made["header"] == "#1 [P1] Checkout returns 500"
    room_id = made["id"]
    assert room(rig).platform_id == room_id
    summary, opening = rig.fake.posts_in(room_id)[:2]
    assert "Incident #1: Checkout returns 500" in summary.text
    assert "opened by @alice-mm" in opening.text
    assert rig.fake.pinned == [summary.id]
    assert rig.fake.members[room_id] == {BOT_ID, IDS["alice"], IDS["bob"]}
    assert shared(rig) == [
        "Incident #1 [P1] Checkout returns 500 has its own room: #inc-1-checkout-returns-500."
    ]
    # In the room, carol acknowledges and is brought in; the pinned summary is edited.
    status, _ = await rig.command("/incident", "ack", user="carol", channel=room_id)
    assert status == 200
    await rig.app.settle()
    assert IDS["carol"] in rig.fake.members[room_id]
    [edit] = rig.fake.of("posts.patch")
    assert edit.path.endswith(f"/posts/{summary.id}/patch")
    assert "acknowledged" in summary.text  # the post as it reads now, fields and all
    await rig.command("/incident", "resolve", user="carol", channel=room_id)
    await rig.command("/incident", "close", user="alice", channel=room_id)
    await rig.app.settle()
    assert rig.fake.archived == []
    await rig.app.advance_to(rig.clock.now() + timedelta(hours=1, minutes=1))
    assert rig.fake.archived == [room_id]
    assert room(rig).state == "closed"


async def test_a_403_keeps_the_shared_channel_and_is_said_once(rig: Rig) -> None:
    refused = Failure(status=403, reset=None, error_id="api.context.permissions.app_error")
    rig.fake.fail("channels.create", refused, refused)
    await open_p1(rig)
    await open_p1(rig, "Search is slow", "P2")
    assert room(rig).state == "fallback"
    assert rig.fake.made == []
    refusals = [p for p in shared(rig) if "could not make a room" in p]
    assert len(refusals) == 1
    assert "(api.context.permissions.app_error)" in refusals[0]
    assert any("Incident #1 [P1] opened by @alice-mm" in p for p in shared(rig))
    assert any("Incident #2 [P2] opened by @alice-mm" in p for p in shared(rig))
    assert rig.fake.of("channels.members.add") == []


async def test_a_refused_invite_leaves_the_room_working(rig: Rig) -> None:
    refused = Failure(status=403, reset=None, error_id="api.context.permissions.app_error")
    rig.fake.fail("channels.members.add", refused)
    await open_p1(rig)
    assert room(rig).state == "open"
    assert rig.fake.of("channels.members.add!failed")
    [made] = rig.fake.made
    assert any("opened by @alice-mm" in p.text for p in rig.fake.posts_in(made["id"]))
