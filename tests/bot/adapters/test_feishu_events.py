"""Commands typed to Feishu's app bot: events posted to the real /feishu/events route as
Feishu posts them, the verification token checked, answers sent to the chat by the app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from storage.models import AuditEntry, PageRow, SeenEvent
from tests.fakes.robot_world import FEISHU_TOKEN, PUBLIC_URL, World, make_world
from tests.support import count


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(sqlite_url, tmp_path / "config", platforms=("feishu",), apps=True)
    yield built
    await built.close()


async def test_the_url_challenge_is_answered(world: World) -> None:
    body = {"challenge": "ajls384kdjx98XX", "token": FEISHU_TOKEN, "type": "url_verification"}
    response = await world.post_event(body)
    assert response.status == 200
    assert await response.json() == {"challenge": "ajls384kdjx98XX"}


async def test_release_status_typed_in_a_group_is_answered_in_that_chat(world: World) -> None:
    response = await world.feishu_event("@_user_1 /release status", chat="oc_ops")
    assert response.status == 200
    [answer] = world.feishu_api.to("oc_ops")
    assert answer.id_type == "chat_id"
    assert answer.title.startswith("No release is in progress.")
    assert world.feishu_bots.received == [], "the app answers, not a custom bot"
    assert world.feishu_api.refused == []


async def test_a_group_bound_to_a_channel_counts_as_it_and_shows_commands_to_type(
    world: World,
) -> None:
    await world.feishu_event("@_user_1 /release start web 1.4.2", chat="oc_releases")
    await world.feishu_event("@_user_1 release status web", chat="oc_releases")
    status = world.feishu_api.to("oc_releases")[-1]
    assert status.title == "web 1.4.2 — plan standard"
    assert "Promote: send @Shipwatch /release promote web" in status.text
    assert status.buttons == [], "no link that acts for whoever clicks, in a group"
    with Session(world.app.engine) as session:
        audited = session.exec(select(AuditEntry)).all()
    assert [(a.platform, a.conversation) for a in audited] == [("feishu", "feishu:#releases")]


async def test_a_one_to_one_chat_gets_links_issued_to_its_reader(world: World) -> None:
    await world.feishu_event("/release start web 1.4.2", chat="oc_p2p_alice", direct=True)
    await world.feishu_event("/release status web", chat="oc_p2p_alice", direct=True)
    status = world.feishu_api.to("oc_p2p_alice")[-1]
    promote = next(b for b in status.buttons if b["text"]["content"] == "Promote")
    assert promote["url"].startswith(f"{PUBLIC_URL}/act/")
    code, body = await world.open_link(promote["url"])
    assert code == 200
    assert "Run /release promote web as Alice Chen?" in body


async def test_a_mentioned_person_becomes_their_handle(world: World) -> None:
    bob = {"key": "@_user_2", "id": {"open_id": "ou_bob"}, "name": "Bob Li"}
    await world.feishu_event(
        "@_user_1 /page @_user_2 checkout is down", chat="oc_ops", mentions=[bob]
    )
    with Session(world.app.engine) as session:
        page = session.exec(select(PageRow)).one()
    assert page.title == "checkout is down"
    assert world.feishu_bots.to("fs-ou_bob-hook"), "bob's own bot carries his page"


async def test_a_replayed_event_id_changes_nothing(world: World) -> None:
    await world.feishu_event("@_user_1 /remind 10m look", chat="oc_ops", event_id="ev-once")
    audits, answers = count(world, AuditEntry), len(world.feishu_api.sent)
    again = await world.feishu_event("@_user_1 /remind 10m look", chat="oc_ops", event_id="ev-once")
    assert again.status == 200
    assert (count(world, AuditEntry), len(world.feishu_api.sent)) == (audits, answers)


@pytest.mark.parametrize(
    ("token", "status"), [("not-the-token", 403), (None, 401)], ids=["wrong", "missing"]
)
async def test_a_wrong_or_missing_token_is_refused_with_nothing_stored(
    world: World, token: str | None, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shipwatch.adapters.feishu"):
        response = await world.feishu_event(
            "@_user_1 /release start web 1.4.2", chat="oc_ops", token=token
        )
    assert response.status == status
    assert "error" in await response.json()
    assert (count(world, AuditEntry), count(world, SeenEvent)) == (0, 0)
    assert world.feishu_api.sent == []
    refusals = [r for r in caplog.records if r.getMessage() == "feishu event refused"]
    assert len(refusals) == 1


async def test_a_forged_challenge_is_refused(world: World) -> None:
    response = await world.post_event(
        {"challenge": "x", "token": "guessed", "type": "url_verification"}
    )
    assert response.status == 403
    assert "challenge" not in await response.json()


async def test_an_encrypted_event_is_refused_with_the_setting_to_change(world: World) -> None:
    response = await world.post_event({"encrypt": "FIAfJPGRmFZWkaxPQ1XrJZVbv2JwdjfLk4jx0k"})
    assert response.status == 400
    assert "Encrypt Key" in (await response.json())["error"]
    assert count(world, SeenEvent) == 0


async def test_news_for_a_chat_without_a_custom_bot_goes_through_the_app(world: World) -> None:
    await world.feishu_event("@_user_1 /remind 10m check the canary", chat="oc_ops")
    await world.app.advance_to(world.clock.now() + timedelta(minutes=10))
    reminder = world.feishu_api.to("oc_ops")[-1]
    assert reminder.text.endswith("check the canary")
    assert reminder.title.startswith("⏰ Reminder from @alice")


async def test_without_the_app_a_command_is_answered_by_the_channels_custom_bot(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world(sqlite_url, tmp_path / "c", platforms=("feishu",), events=True)
    try:
        await world.feishu_event("@_user_1 /release status", chat="oc_releases")
        [answer] = world.feishu_bots.to("fs-releases-hook")
        assert answer.title.startswith("No release is in progress.")
        with caplog.at_level(logging.WARNING, logger="shipwatch.adapters.feishu"):
            response = await world.feishu_event("@_user_1 /release status", chat="oc_unknown")
        assert response.status == 200
        assert [r.getMessage() for r in caplog.records] == ["reply not delivered"]
        assert world.feishu_api.sent == []
    finally:
        await world.close()


async def test_half_a_surrogate_pair_in_an_event_or_its_content_is_400(world: World) -> None:
    response = await world.feishu_event("@_user_1 /release status web\ud800", chat="oc_ops")
    assert response.status == 400
    assert "half of a UTF-16 surrogate pair" in (await response.json())["error"]
    response = await world.post_event(
        {"type": "url_verification", "token": FEISHU_TOKEN, "challenge": "c\udc00"}
    )
    assert response.status == 400
    assert "“challenge”" in (await response.json())["error"]
    assert (count(world, AuditEntry), count(world, SeenEvent)) == (0, 0)
    assert world.feishu_api.sent == []


async def test_news_said_in_a_chat_is_not_sent_again_to_its_members(world: World) -> None:
    world.feishu_api.members["oc_ops"] = ["ou_alice", "ou_bob"]  # carol is not in it
    await world.feishu_event('@_user_1 /incident open "checkout slow" --sev P3', chat="oc_ops")
    await world.feishu_event("@_user_1 /incident assign 1 scribe @bob", chat="oc_ops")
    await world.feishu_event("@_user_1 /incident assign 1 comms @carol", chat="oc_ops")
    await world.app.settle()
    assert any("@bob is now scribe" in m.text for m in world.feishu_api.to("oc_ops"))
    assert world.feishu_api.to("ou_bob") == []
    [carol] = world.feishu_api.to("ou_carol")
    assert "is now communications lead" in carol.text
    assert world.feishu_api.member_queries == 1  # asked once, then remembered
