"""Feishu end to end: signed custom bots (checked by the local fake the way Feishu checks),
interactive cards, the 5-a-second and 100-a-minute limits, and a page acknowledged by link."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.adapters.robots import SendLimit
from playbooks.messages import Button, ButtonStyle, Message, MessageField, raw
from storage.models import PageRow
from tests.fakes.robot_world import PUBLIC_URL, World, make_world
from tests.support import outbox

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(database_url, tmp_path / "config", platforms=("feishu",))
    yield built
    await built.close()


async def say(
    world: World, text: str, *, user: str = "ou_alice", channel: str = "#releases"
) -> None:
    outcome = await world.say(text, platform="feishu", user=user, channel=channel)
    assert outcome.status == "ok", outcome


async def test_release_status_is_a_card_with_fields_and_commands_to_type(world: World) -> None:
    await say(world, "/release start web 1.4.2")
    await say(world, "/release status web")
    card = world.feishu_bots.to("fs-releases-hook")[-1]
    assert card.title == "web 1.4.2 — plan standard"
    assert card.template == "blue"
    assert card.body["msg_type"] == "interactive"
    assert "**Stage**\ncanary, 10% (of 4 stages)" in card.text
    assert "Promote: send /release promote web" in card.text
    assert card.buttons == [], "a group card carries no link that would act for whoever clicks"
    assert world.feishu_bots.refused == []


async def test_incident_open_reaches_the_incident_and_tech_channels_in_red(world: World) -> None:
    await say(world, "/incident open checkout is down --sev P0 --service web", channel="#ops")
    [news] = world.feishu_bots.to("fs-incidents-hook")
    assert "checkout is down" in news.text
    assert news.template == "red"
    assert world.feishu_bots.to("fs-tech-hook")


async def test_what_people_typed_is_text_in_the_card_not_markup(world: World) -> None:
    typed = "[Acknowledge](https://evil.example) <at id=all></at> **now**"
    message = Message(
        blocks=(raw(f"Incident: {typed}"), raw(f"Note: {typed}")),
        fields=(MessageField(raw("Summary"), raw(typed)),),
        mentions=("@bob",),
    )
    await world.app.adapters["feishu"].post("#ops", message, tr=world.app.translator("en"))
    [card] = world.feishu_bots.to("fs-ops-hook")
    assert card.title == f"Incident: {typed}", "the header is plain text: shown as typed"
    markdown = card.text.removeprefix(card.title)
    assert "[Acknowledge]" not in markdown
    assert "<at id=all>" not in markdown
    assert "**now**" not in markdown
    shown = (
        "&#91;Acknowledge&#93;(https://evil.example) &#60;at id=all&#62;&#60;/at&#62; &#42;&#42;now"
    )
    assert f"Note: {shown}" in markdown
    assert f"**Summary**\n{shown}" in markdown, "our own bold label stays bold"
    assert "<at id=ou_bob></at>" in markdown, "our own mention still mentions"


async def test_a_page_is_acknowledged_through_its_link(world: World) -> None:
    await say(world, "/page @bob checkout is down", channel="#ops")
    [card] = world.feishu_bots.to("fs-ou_bob-hook")
    assert "<at id=ou_bob></at>" in card.text
    ack = card.buttons[0]
    assert ack["text"]["content"] == "确认"
    assert ack["url"].startswith(f"{PUBLIC_URL}/act/")
    status, body = await world.open_link(ack["url"])
    assert (status, "以 Bob Li 的身份执行 /ack 1？" in body) == (200, True)
    status, body = await world.open_link(ack["url"], method="POST")
    assert status == 200
    with Session(world.app.engine) as session:
        assert session.exec(select(PageRow)).one().acked_by == "bob"
    status, _ = await world.open_link(ack["url"], method="POST")
    assert status == 409


async def test_five_a_second_per_bot_queued_not_dropped(world: World) -> None:
    for n in range(7):  # typed a second apart, so their replies fit; all due at 01:05
        await world.say(
            f"/remind 2026-11-23T01:05 r{n}", platform="feishu", user="ou_alice", channel="#ops"
        )
        world.clock.advance(timedelta(seconds=1))
    replies = len(world.feishu_bots.to("fs-ops-hook"))
    await world.app.advance_to(datetime(2026, 11, 23, 1, 5, tzinfo=UTC))
    sent = world.feishu_bots.to("fs-ops-hook")[replies:]
    assert [c.text.splitlines()[-1] for c in sent] == [f"r{n}" for n in range(5)]
    await world.app.advance_to(world.clock.now() + timedelta(seconds=1))
    sent = world.feishu_bots.to("fs-ops-hook")[replies:]
    assert [c.text.splitlines()[-1] for c in sent] == [f"r{n}" for n in range(7)], "in order"
    assert world.feishu_bots.refused == [], "Feishu never had to throttle us"


def test_a_hundred_a_minute_holds_the_101st_until_the_first_is_a_minute_old() -> None:
    limit = SendLimit(((5, timedelta(seconds=1)), (100, timedelta(minutes=1))))
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    for n in range(100):
        moment = at + timedelta(milliseconds=200 * n)  # 5 a second, never faster
        assert limit.wait(moment) == timedelta(0)
        limit.record(moment)
    assert limit.wait(at + timedelta(seconds=20)) == timedelta(seconds=40)
    assert limit.wait(at + timedelta(seconds=60)) == timedelta(0)


async def test_a_rate_limited_answer_is_retried(world: World) -> None:
    await world.say("/remind 1m later", platform="feishu", user="ou_alice", channel="#ops")
    world.feishu_bots.throttle_next = 1
    await world.app.advance_to(world.clock.now() + timedelta(minutes=1))
    [row] = outbox(world)
    assert row.state == "pending"
    assert "11232" in (row.last_error or "")
    assert row.next_attempt_at == world.clock.now() + timedelta(seconds=2)
    await world.app.advance_to(world.clock.now() + timedelta(seconds=2))
    assert world.feishu_bots.to("fs-ops-hook")[-1].text.endswith("later")


async def test_a_wrong_secret_is_a_dead_letter_at_once(world: World) -> None:
    await world.say("/remind 1m never", platform="feishu", user="ou_alice", channel="#ops")
    world.feishu_bots.hooks["fs-ops-hook"] = "changed"
    await world.app.advance_to(world.clock.now() + timedelta(hours=1))
    assert [r.state for r in outbox(world)][-1] == "dead"
    assert "19021" in (outbox(world)[-1].last_error or "")


def _timeline(events: int) -> Message:
    """A long listing in the shape of a big incident's timeline, addressed to bob."""
    lines = tuple(
        raw(f"10:{i % 60:02d} 事件 {i}: 支付接口超时，已切换备用通道") for i in range(events)
    )
    buttons = (Button(raw("Acknowledge"), "/ack 1", ButtonStyle.PRIMARY, "tokack"),)
    return Message((raw("Incident #1 timeline"), *lines), (), buttons, mentions=("bob",))


async def test_a_600_event_timeline_fits_a_card_keeping_commands_and_mentions(
    world: World,
) -> None:
    adapter = world.app.adapters["feishu"]
    await adapter.post("#incidents", _timeline(600), tr=world.app.translator("en"))
    [card] = world.feishu_bots.to("fs-incidents-hook")
    assert world.feishu_bots.refused == []
    assert len(json.dumps(card.body, ensure_ascii=False).encode()) <= 20 * 1024
    text = card.text
    assert "事件 0:" in text
    assert "Acknowledge: send /ack 1" in text, "the command to type is never what is lost"
    assert "<at id=ou_bob></at>" in text, "nor the mention"
    shown = sum(1 for line in text.splitlines() if "事件 " in line)
    assert f"… and {600 - shown} more line(s) not shown here" in text


async def test_a_body_over_feishus_limit_is_refused_by_the_fake_as_by_feishu(world: World) -> None:
    # The fake enforces the limit the renderer keeps to: without fitting, this is refused.
    body = {"msg_type": "text", "content": {"text": "x" * 21_000}}
    async with aiohttp.ClientSession() as http:
        url = f"{world.feishu_bots.base_url}/open-apis/bot/v2/hook/fs-incidents-hook"
        async with http.post(url, json=body) as response:
            answer = await response.json()
    assert answer["code"] == 19036
