"""Direct messages (pages) through DingTalk's and Feishu's app robots, for people without a
robot of their own: access tokens fetched, kept, refreshed; the platform's refusals mapped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.adapters.dingtalk_app import template
from storage.models import PageRow
from tests.fakes.robot_world import PUBLIC_URL, World, make_world
from tests.support import outbox, write_effects


@pytest.fixture
async def dingtalk(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(
        database_url, tmp_path / "config", platforms=("dingtalk",), apps=True, direct=()
    )
    yield built
    await built.close()


@pytest.fixture
async def feishu(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    built = await make_world(
        database_url, tmp_path / "config", platforms=("feishu",), apps=True, direct=()
    )
    yield built
    await built.close()


def acked_by(world: World) -> str | None:
    with Session(world.app.engine) as session:
        return session.exec(select(PageRow)).one().acked_by


async def page_bob_on_feishu(world: World, text: str = "checkout is down") -> None:
    outcome = await world.say(
        f"/page @bob {text}", platform="feishu", user="ou_alice", channel="#ops"
    )
    assert outcome.status == "ok", outcome


# --- DingTalk ----------------------------------------------------------------------------


async def test_a_page_reaches_bob_through_the_dingtalk_app_and_its_link_acknowledges(
    dingtalk: World,
) -> None:
    await dingtalk.callback("@Shipwatch /page @bob checkout is down")
    [page] = dingtalk.dingtalk_api.to("staff-bob")
    assert page.msg_key == "sampleActionCard2", "Acknowledge and Escalate"
    assert "checkout is down" in page.text
    assert page.param["actionTitle1"] == "确认", "in Bob's language"
    assert "@staff-bob" not in page.text, "no mention in a one-to-one chat"
    link = page.param["actionURL1"]
    assert link.startswith(f"{PUBLIC_URL}/act/")
    status, body = await dingtalk.open_link(link)
    assert (status, "以 Bob Li 的身份执行 /ack 1？" in body) == (200, True)
    status, _ = await dingtalk.open_link(link, method="POST")
    assert status == 200
    assert acked_by(dingtalk) == "bob"
    assert dingtalk.dingtalk_api.refused == []
    assert dingtalk.dingtalk_robots.to("dt-staff-bob-token") == []


async def test_the_dingtalk_token_is_kept_then_fetched_again_after_it_expires(
    dingtalk: World,
) -> None:
    api = dingtalk.dingtalk_api
    await dingtalk.callback("/page @bob first")
    await dingtalk.callback("/page @carol second")
    assert (api.token_requests, len(api.sent)) == (1, 2), "one token for both"
    dingtalk.clock.advance(timedelta(hours=2))  # the token has run out by now
    await dingtalk.callback("/page @bob third")
    assert api.token_requests == 2
    assert api.refused == [], "a new token before the old one ran out, not after a refusal"
    assert [m.text.count("third") for m in api.to("staff-bob")] == [0, 1]


async def test_a_token_dingtalk_no_longer_accepts_is_replaced_once(dingtalk: World) -> None:
    api = dingtalk.dingtalk_api
    await dingtalk.callback("/page @bob first")
    api.tokens.clear()  # revoked early (the app secret was reset, say)
    await dingtalk.callback("/page @bob second")
    assert api.refused == ["InvalidAuthentication"]
    assert api.token_requests == 2
    assert "second" in api.to("staff-bob")[-1].text


async def test_a_dingtalk_rate_limit_is_retried_through_the_outbox(dingtalk: World) -> None:
    dingtalk.dingtalk_api.throttle_next = 1
    await dingtalk.callback("/page @bob throttled")
    [row] = [r for r in outbox(dingtalk) if r.kind == "direct" and r.address == "staff-bob"]
    assert row.state == "pending"
    assert "QpsLimitForApi" in (row.last_error or "")
    assert row.next_attempt_at == dingtalk.clock.now() + timedelta(seconds=1)
    await dingtalk.app.advance_to(dingtalk.clock.now() + timedelta(seconds=1))
    assert "throttled" in dingtalk.dingtalk_api.to("staff-bob")[-1].text


async def test_someone_dingtalk_does_not_know_is_a_dead_letter_at_once(dingtalk: World) -> None:
    await dingtalk.callback("/page @mallory are you there")  # not in the app's organisation
    [row] = [r for r in outbox(dingtalk) if r.address == "staff-mallory"]
    assert (row.state, row.attempts) == ("dead", 1)
    assert "knows no user staff-mallory" in (row.last_error or "")


async def test_a_wrong_app_secret_is_a_dead_letter_naming_the_settings(dingtalk: World) -> None:
    dingtalk.dingtalk_api.app_secret = "rotated-in-the-console"
    await dingtalk.callback("/page @bob lost")
    [row] = [r for r in outbox(dingtalk) if r.address == "staff-bob"]
    assert row.state == "dead"
    assert "SHIPWATCH_DINGTALK_APP_SECRET" in (row.last_error or "")
    assert "rotated" not in (row.last_error or ""), "no secret in the error"


# --- Feishu ------------------------------------------------------------------------------


async def test_a_page_reaches_bob_through_the_feishu_app_and_its_link_acknowledges(
    feishu: World,
) -> None:
    await page_bob_on_feishu(feishu)
    [page] = feishu.feishu_api.to("ou_bob")
    assert page.id_type == "open_id"
    assert "checkout is down" in page.text
    assert "<at id=ou_bob></at>" not in page.text, "no mention in a one-to-one chat"
    ack = page.buttons[0]
    assert ack["text"]["content"] == "确认"
    status, _ = await feishu.open_link(ack["url"], method="POST")
    assert status == 200
    assert acked_by(feishu) == "bob"
    assert feishu.feishu_api.refused == []
    assert [r.platform_ref for r in outbox(feishu) if r.address == "ou_bob"] == ["om_1"]


async def test_the_feishu_token_is_kept_refreshed_and_replaced_once_when_refused(
    feishu: World,
) -> None:
    api = feishu.feishu_api
    await page_bob_on_feishu(feishu, "first")
    await page_bob_on_feishu(feishu, "second")
    assert api.token_requests == 1
    feishu.clock.advance(timedelta(hours=2))
    await page_bob_on_feishu(feishu, "third")
    assert (api.token_requests, api.refused) == (2, [])
    api.tokens.clear()
    await page_bob_on_feishu(feishu, "fourth")
    assert (api.token_requests, api.refused) == (3, [99991663])
    assert "fourth" in api.to("ou_bob")[-1].text


async def test_a_feishu_rate_limit_waits_as_feishu_asks(feishu: World) -> None:
    feishu.feishu_api.throttle_next = 1
    await page_bob_on_feishu(feishu, "throttled")
    [row] = [r for r in outbox(feishu) if r.address == "ou_bob"]
    assert row.state == "pending"
    assert "99991400" in (row.last_error or "")
    assert row.next_attempt_at == feishu.clock.now() + timedelta(seconds=1)
    await feishu.app.advance_to(feishu.clock.now() + timedelta(seconds=1))
    assert "throttled" in feishu.feishu_api.to("ou_bob")[-1].text


async def test_someone_outside_the_feishu_apps_range_is_a_dead_letter_at_once(
    feishu: World,
) -> None:
    outcome = await feishu.say(
        "/page @mallory hello", platform="feishu", user="ou_alice", channel="#ops"
    )
    assert outcome.status == "ok"
    [row] = [r for r in outbox(feishu) if r.address == "ou_mallory"]
    assert (row.state, row.attempts) == ("dead", 1)
    assert "230013" in (row.last_error or "")
    assert "availability range" in (row.last_error or "")


def test_an_action_card_becomes_the_app_template_that_holds_its_buttons() -> None:
    def card(n: int) -> dict[str, object]:
        buttons = [{"title": f"b{i}", "actionURL": f"https://x/{i}"} for i in range(1, n + 1)]
        return {
            "msgtype": "actionCard",
            "actionCard": {"title": "T", "text": "body", "btns": buttons},
        }

    key, param = template(card(1))
    assert (key, param["singleTitle"], param["singleURL"]) == (
        "sampleActionCard",
        "b1",
        "https://x/1",
    )
    key, param = template(card(6))
    assert key == "sampleActionCard5"
    assert param["actionURL5"] == "https://x/5"
    assert param["text"].endswith("[b6](https://x/6)"), "the sixth as a link in the text"
    markdown = {"msgtype": "markdown", "markdown": {"title": "T", "text": "body"}}
    assert template(markdown) == ("sampleMarkdown", {"title": "T", "text": "body"})


async def test_the_feishu_app_edits_a_revised_post_in_place(feishu: World) -> None:
    from playbooks.effects import Conversation, Post
    from playbooks.messages import Message, raw

    async def write(text: str, *, only: bool = False) -> None:
        post = Post(
            Conversation("feishu", "oc_releases"),
            Message.of(raw(text)),
            edit_key="release:1:progress",
            revision_only=only,
        )
        await write_effects(feishu.app, post)

    api = feishu.feishu_api
    await write("10% for 30m")
    [first] = api.to("oc_releases")
    await write("10% for 1h", only=True)
    assert [message_id for message_id, _ in api.edits] == ["om_1"]
    assert "10% for 1h" in first.text  # the one card, edited for everyone in the chat
    assert len(api.to("oc_releases")) == 1
    api.gone.add("om_1")  # withdrawn: Feishu edits it no more
    await write("10% for 2h", only=True)
    assert len(api.to("oc_releases")) == 1  # nothing new to say: not posted anew
    await write("20% now")
    assert "20% now" in api.to("oc_releases")[-1].text
    assert api.refused == [230011, 230011]
