"""DingTalk end to end: signed callbacks to the real /dingtalk/callback route, answers
through the session webhook, news through signed custom robots, the 20-a-minute limit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from playbooks.errors import Throttled
from playbooks.messages import Button, ButtonStyle, Message, MessageField, Severity, raw
from storage.models import AuditEntry, OutboxMessage, SeenEvent, SendHold
from tests.fakes import dingtalk_robot
from tests.fakes.robot_world import APP_SECRET, DIRECT, World, make_world
from tests.support import count, outbox

pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(database_url, tmp_path / "config", platforms=("dingtalk",))
    yield built
    await built.close()


async def test_a_command_after_the_mention_is_answered_through_the_session_webhook(
    world: World,
) -> None:
    response = await world.callback("@Shipwatch /release status")
    assert response.status == 200
    [answer] = world.dingtalk_robots.to("session:s-cid-releases")
    assert answer.body["msgtype"] == "markdown"
    assert answer.text == (
        "#### No release is in progress. /release start SERVICE VERSION starts one; "
        "/release plans lists the plans."
    )
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


async def test_a_captured_signature_cannot_carry_another_message(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    stamp = int(world.clock.now().timestamp() * 1000) - 5000
    pair = {"timestamp": str(stamp), "sign": dingtalk_robot.sign(APP_SECRET, stamp)}
    first = await world.callback("/release status", msg_id="msg-real", headers=pair)
    assert first.status == 200
    again = await world.callback("/release status", msg_id="msg-real", headers=pair)
    assert again.status == 200, "DingTalk delivering the same message again"
    posts = len(world.dingtalk_robots.received)
    with caplog.at_level(logging.WARNING, logger="shipwatch.adapters.dingtalk"):
        forged = await world.callback("/release start web 1.4.2", msg_id="msg-forged", headers=pair)
    assert forged.status == 403
    assert "sign" in (await forged.json())["error"]
    assert count(world, AuditEntry) == 0
    assert len(world.dingtalk_robots.received) == posts
    refusals = [r for r in caplog.records if r.getMessage() == "dingtalk callback refused"]
    assert [r.reason for r in refusals] == ["signature reused"]  # type: ignore[attr-defined]


async def test_a_session_webhook_off_dingtalk_is_ignored_for_the_channel_robot(
    world: World,
) -> None:
    elsewhere = "http://127.0.0.1:9/robot/sendBySession?session=stolen"
    response = await world.callback("/release status", session_webhook=elsewhere)
    assert response.status == 200
    [answer] = world.dingtalk_robots.to("dt-releases-token")
    assert "No release is in progress" in answer.text
    near_miss = world.dingtalk_robots.base_url + ".evil/robot/sendBySession?session=x"
    await world.callback("/release status", session_webhook=near_miss)
    assert len(world.dingtalk_robots.to("dt-releases-token")) == 2


async def test_a_one_to_one_session_does_not_draw_a_page_to_dingtalk(
    database_url: str, tmp_path: Path
) -> None:
    world = await make_world(database_url, tmp_path, direct=(*DIRECT, "ou_carol"))
    try:
        said = await world.callback("/release status", user="staff-carol", direct=True)
        assert said.status == 200
        assert not world.dingtalk.reaches("staff-carol"), "a session is no lasting route"
        await world.callback("/page @carol checkout is down")
        with Session(world.app.engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "direct"))
            routes = {(row.platform, row.address) for row in rows}
        assert routes == {("feishu", "ou_carol")}
    finally:
        await world.close()


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


async def test_at_most_20_messages_a_minute_per_robot_queued_not_dropped(world: World) -> None:
    for n in range(25):
        await world.callback(f"/remind 1m reminder {n}")
    await world.app.advance_to(world.clock.now() + timedelta(minutes=1))
    sent = world.dingtalk_robots.to("dt-releases-token")
    assert len(sent) == 20
    waiting = [row for row in outbox(world) if row.state == "pending"]
    assert len(waiting) == 5
    assert waiting[0].last_error
    assert "next slot in 60.0s" in waiting[0].last_error
    await world.app.advance_to(world.clock.now() + timedelta(minutes=1))
    sent = world.dingtalk_robots.to("dt-releases-token")
    assert [r.text.splitlines()[-1] for r in sent] == [f"reminder {n}" for n in range(25)], (
        "all delivered, in order"
    )
    assert world.dingtalk_robots.refused == [], "DingTalk never had to throttle us"
    for first, later in zip(sent, sent[20:], strict=False):
        assert later.at - first.at >= timedelta(minutes=1)


async def test_send_too_fast_is_retried_when_dingtalk_says(world: World) -> None:
    world.dingtalk_robots.throttle_next = 1
    await world.callback("/remind 1m throttled")
    await world.app.advance_to(world.clock.now() + timedelta(minutes=1))
    [row] = [r for r in outbox(world) if r.address == "#releases"]
    assert row.state == "pending"
    assert "130101" in (row.last_error or "")
    assert row.next_attempt_at == world.clock.now() + timedelta(seconds=60)
    await world.app.advance_to(world.clock.now() + timedelta(seconds=60))
    assert world.dingtalk_robots.to("dt-releases-token")[-1].text.endswith("throttled")


async def test_a_robot_held_back_for_ten_minutes_waits_them_out_and_then_delivers(
    world: World,
) -> None:
    await world.callback("/remind 1m held back")
    fires_at = world.clock.now() + timedelta(minutes=1)
    world.dingtalk_robots.blocked_until["dt-releases-token"] = fires_at + timedelta(minutes=10)
    await world.app.advance_to(fires_at)
    [row] = [r for r in outbox(world) if r.address == "#releases"]
    assert (row.state, row.attempts) == ("pending", 0), "a wait, not a failed attempt"
    assert "410100" in (row.last_error or "")
    assert row.next_attempt_at == fires_at + timedelta(minutes=10)
    await world.app.advance_to(fires_at + timedelta(minutes=10))
    assert world.dingtalk_robots.to("dt-releases-token")[-1].text.endswith("held back")
    [row] = [r for r in outbox(world) if r.address == "#releases"]
    assert (row.state, row.attempts) == ("sent", 1)


async def test_a_ten_minute_block_is_waited_out_by_a_restarted_process_too(
    world: World, database_url: str, tmp_path: Path
) -> None:
    await world.callback("/remind 1m held back")
    fires_at = world.clock.now() + timedelta(minutes=1)
    world.dingtalk_robots.blocked_until["dt-releases-token"] = fires_at + timedelta(minutes=10)
    await world.app.advance_to(fires_at)
    with Session(world.app.engine) as session:
        [hold] = session.exec(select(SendHold)).all()
    assert (hold.key, hold.until) == ("dingtalk:#releases", fires_at + timedelta(minutes=10))
    assert "410100" in hold.reason

    # Another process on the same database (a restart, a second replica), with a robot
    # that would take the message: it waits the block out rather than hammering.
    other = await make_world(database_url, tmp_path / "other", platforms=("dingtalk",))
    try:
        other.clock.advance_to(fires_at + timedelta(minutes=3))
        tr = other.app.translator("en")
        with pytest.raises(Throttled) as held:
            await other.dingtalk.post("#releases", Message.of(raw("second")), tr=tr)
        assert held.value.retry_after == pytest.approx(7 * 60)
        assert other.dingtalk_robots.received == []
        other.clock.advance_to(fires_at + timedelta(minutes=10))
        await other.dingtalk.post("#releases", Message.of(raw("second")), tr=tr)
        assert other.dingtalk_robots.to("dt-releases-token")[-1].text.endswith("second")
    finally:
        await other.close()


async def test_a_reply_the_robot_may_not_send_now_follows_through_the_outbox(
    world: World,
) -> None:
    world.dingtalk_robots.blocked_until["dt-releases-token"] = world.clock.now() + timedelta(
        minutes=10
    )
    await world.callback("/release status", session_expires_ms=0)  # only the robot can answer
    assert world.dingtalk_robots.to("dt-releases-token") == []
    [row] = [r for r in outbox(world) if r.state == "pending"]
    assert (row.address, row.attempts, row.locale) == ("#releases", 0, "en")
    await world.app.advance_to(world.clock.now() + timedelta(minutes=10))
    [answer] = world.dingtalk_robots.to("dt-releases-token")
    assert "No release is in progress" in answer.text


async def test_a_robot_that_refuses_the_signature_is_a_dead_letter_at_once(world: World) -> None:
    world.dingtalk_robots.robots["dt-releases-token"] = "SECsomeone-changed-the-secret"
    await world.callback("/remind 1m never")
    await world.app.advance_to(world.clock.now() + timedelta(hours=1))
    [row] = [r for r in outbox(world) if r.address == "#releases"]
    assert row.state == "dead"
    assert row.attempts == 1
    assert "310000" in (row.last_error or "")
    assert "token" not in (row.last_error or "").split("(")[0], "the URL's token stays out"


async def test_a_channel_without_a_robot_is_a_dead_letter_naming_the_fix(world: World) -> None:
    await world.callback("/remind 1m lost", conversation="cid-unknown", session="gone")
    world.clock.advance(timedelta(hours=2))  # its session webhook has expired by now
    await world.app.advance_to(world.clock.now() + timedelta(minutes=1))
    [row] = [r for r in outbox(world) if r.address == "cid-unknown"]
    assert row.state == "dead"
    assert "add one under dingtalk in robots.yaml" in (row.last_error or "")


async def test_a_stale_session_webhook_answers_through_the_channel_robot(world: World) -> None:
    response = await world.callback("/release status", session_expires_ms=0)
    assert response.status == 200
    assert world.dingtalk_robots.to("session:s-cid-releases") == []
    [answer] = world.dingtalk_robots.to("dt-releases-token")
    assert "No release is in progress" in answer.text


async def test_incident_open_and_a_page_acknowledged_by_link(world: World) -> None:
    opened = await world.callback(
        "@Shipwatch /incident open checkout is down --sev P1 --service web"
    )
    assert opened.status == 200
    news = world.dingtalk_robots.to("dt-incidents-token")
    assert news
    assert "checkout is down" in news[0].text
    assert world.dingtalk_robots.to("dt-tech-token"), "P1 news reaches the tech channel"
    await world.callback("/page @bob checkout is down")
    [card] = world.dingtalk_robots.to("dt-staff-bob-token")
    status, _ = await world.open_link(card.buttons[0]["actionURL"], method="POST")
    assert status == 200
    text = world.dingtalk_robots.to("session:s-cid-releases")[-1].text
    assert "Page #1" in text
    reply = await world.callback("/pages")
    assert reply.status == 200
    assert "bob" in world.dingtalk_robots.to("session:s-cid-releases")[-1].text


async def test_what_people_typed_is_text_in_the_markdown_not_markup(world: World) -> None:
    typed = "[Acknowledge](https://evil.example) <font>big</font> **now**"
    message = Message(
        blocks=(raw(f"Incident: {typed}"), raw(f"- {typed}")),
        fields=(MessageField(raw("Summary"), raw(typed)),),
        severity=Severity.DANGER,
    )
    await world.dingtalk.post("#incidents", message, tr=world.app.translator("en"))
    [news] = world.dingtalk_robots.to("dt-incidents-token")
    shown = r"\[Acknowledge\](https://evil.example) &lt;font&gt;big&lt;/font&gt; \*\*now\*\*"
    assert news.text.startswith(f'#### <font color="#D93026">Incident: {shown}</font>')
    assert f"\n\n\\- {shown}\n\n" in news.text, "not a list item either"
    assert f"**Summary**: {shown}" in news.text, "our own bold label stays bold"
    assert news.body["markdown"]["title"] == f"Incident: {typed}"[:59] + "…"


async def test_the_refusal_is_a_sentence_in_the_callers_language(world: World) -> None:
    stamp = str(int(world.clock.now().timestamp() * 1000))
    headers = {"timestamp": stamp, "sign": "Zm9yZ2Vk", "Accept-Language": "zh-CN,zh;q=0.9"}
    response = await world.callback("/release status", headers=headers)
    assert response.status == 403
    assert (await response.json())["error"].startswith("sign 请求头不匹配")


async def test_a_report_chart_is_shown_on_dingtalk_and_linked_on_feishu(
    database_url: str, tmp_path: Path
) -> None:
    from bot import charts
    from commands.core.effects import apply
    from playbooks.effects import Conversation, Post
    from playbooks.messages import Message, raw
    from storage.repositories import summaries
    from storage.unit_of_work import unit_of_work

    world = await make_world(database_url, tmp_path / "config", platforms=("dingtalk", "feishu"))
    try:
        app = world.app
        with unit_of_work(app.engine) as session:
            chart_id = summaries.store_chart(
                session,
                token="chart01",
                png=charts.render("p95", []),
                kind="daily",
                now=world.clock.now(),
            )
            report = Message(blocks=(raw("📋 Daily report"),), image=chart_id)
            apply(
                session,
                [Post(Conversation(p, "#ops"), report) for p in ("dingtalk", "feishu")],
                now=world.clock.now(),
                directory=app.runtime.directory,
                new_token=app.runtime.new_token,
                reachable=app.runtime.reachable_platforms,
            )
        await app.settle()
        url = app.chart_url(chart_id)
        [ding] = world.dingtalk_robots.to("dt-ops-token")
        assert f"![chart]({url})" in ding.text
        [card] = world.feishu_bots.to("fs-ops-hook")
        assert f"[📈 Chart]({url})" in card.text
    finally:
        await world.close()


async def test_half_a_surrogate_pair_in_a_callback_is_400_in_the_callers_language(
    world: World,
) -> None:
    stamp = int(world.clock.now().timestamp() * 1000)
    headers = {
        "timestamp": str(stamp),
        "sign": dingtalk_robot.sign(APP_SECRET, stamp),
        "Accept-Language": "zh",
    }
    response = await world.callback(
        "/release status web\ud800", timestamp_ms=stamp, headers=headers
    )
    assert response.status == 400
    assert "“text.content” 含有不成对的 UTF-16 代理项" in (await response.json())["error"]
    assert (count(world, AuditEntry), count(world, SeenEvent)) == (0, 0)


async def test_a_600_event_timeline_keeps_its_mention_and_commands_within_the_limit(
    world: World,
) -> None:
    lines = tuple(
        raw(f"10:{i % 60:02d} 事件 {i}: 支付接口超时，已切换备用通道") for i in range(600)
    )
    buttons = (Button(raw("Acknowledge"), "/ack 1", ButtonStyle.PRIMARY, "tokack"),)
    message = Message((raw("Incident #1 timeline"), *lines), (), buttons, mentions=("bob",))
    await world.dingtalk.post("#incidents", message, tr=world.app.translator("en"))
    [sent] = world.dingtalk_robots.to("dt-incidents-token")
    assert world.dingtalk_robots.refused == []
    text = sent.text
    assert len(text) <= 5000
    assert text.startswith("#### Incident #1 timeline")
    assert "send @Shipwatch /ack 1" in text, "the command to type is never what is lost"
    assert text.endswith("@staff-bob"), "nor the mention, which must come last"
    assert sent.body["at"]["atUserIds"] == ["staff-bob"]
    shown = sum(1 for line in text.splitlines() if "事件 " in line)
    assert shown > 20
    assert f"… and {600 - shown} more line(s) not shown here" in text
