"""Slack end to end: requests signed as Slack signs them reach the real /slack/events route,
and the real AsyncWebClient talks to a local fake Web API that records the Block Kit."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlmodel import select

from bot import adapters
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.http import serve
from bot.settings import Settings
from commands.core.effects import apply
from playbooks.effects import Conversation, Post
from playbooks.messages import Message, raw
from storage import migrate
from storage.engine import make_engine
from storage.models import AuditEntry, OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.conftest import START
from tests.fakes.chat_people import chat_config
from tests.fakes.slack_api import Failure, FakeSlack
from tests.support import write_effects

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class Rig:
    app: Application
    fake: FakeSlack
    url: str
    client: aiohttp.ClientSession
    clock: VirtualClock
    commands_sent: int = 0

    async def signed(
        self,
        body: str,
        *,
        content_type: str,
        age: float = 0.0,
        secret: str = SECRET,
        **headers: str,
    ) -> aiohttp.ClientResponse:
        stamp = str(int(time.time() - age))
        digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        return await self.client.post(
            self.url,
            data=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": f"v0={digest.hexdigest()}",
                **headers,
            },
        )

    async def command(
        self, command: str, text: str, *, user: str = "U0ALICE", channel: str = "C0OPS", **kw: Any
    ) -> aiohttp.ClientResponse:
        self.commands_sent += 1
        n = self.commands_sent
        form = {
            "token": "legacy",
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": self.fake.response_url(str(n)),
            "trigger_id": f"trigger.{n}",
            "api_app_id": "A1",
        }
        return await self.signed(
            urlencode(form), content_type="application/x-www-form-urlencoded", **kw
        )

    async def press(self, token: str, *, user: str, channel: str) -> aiohttp.ClientResponse:
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "channel": {"id": channel},
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "trigger_id": "press.1",
            "response_url": self.fake.response_url("press"),
            "actions": [
                {
                    "type": "button",
                    "action_id": token,
                    "block_id": "b1",
                    "value": token,
                    "action_ts": "1700000001.000200",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.signed(body, content_type="application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, event_id: str, **headers: str) -> Any:
        body = json.dumps(
            {
                "type": "event_callback",
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return await self.signed(body, content_type="application/json", **headers)


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    fake = FakeSlack()
    api_url = await fake.start()
    config = load(chat_config(tmp_path / "config", first="slack"))
    settings = Settings(
        database_url=database_url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        admin_channel="#shipwatch-admin",
    )
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    clock = VirtualClock(START)
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=clock,
        adapters=adapters.build(settings, config),
        seed=0,
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    await app.start()
    async with aiohttp.ClientSession() as client:
        yield Rig(app, fake, f"http://127.0.0.1:{port}/slack/events", client, clock)
    await app.stop()
    await runner.cleanup()
    await fake.stop()
    engine.dispose()


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every text a person would read in some Block Kit, one per line."""
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        for e in block.get("elements", []):
            out.append(e["text"]["text"] if isinstance(e.get("text"), dict) else e.get("text", ""))
    return "\n".join(out)


def blocks_of(params: dict[str, Any]) -> list[dict[str, Any]]:
    if "attachments" in params:
        return list(params["attachments"][0]["blocks"])
    return list(params["blocks"])


def audit_count(app: Application) -> int:
    with unit_of_work(app.engine) as session:
        return len(session.exec(select(AuditEntry)).all())


async def test_a_slash_command_is_acknowledged_then_answered_in_the_channel(rig: Rig) -> None:
    response = await rig.command("/release", "status web")
    assert response.status == 200
    [reply] = await rig.fake.wait_for("respond")
    assert reply.params["response_type"] == "in_channel"
    assert "web" in texts(blocks_of(reply.params))
    assert reply.params["text"]  # the notification fallback


async def test_the_umbrella_command_and_a_refusal_shown_to_the_asker_alone(rig: Rig) -> None:
    await rig.command("/shipwatch", "remnd 10m hello")
    [reply] = await rig.fake.wait_for("respond")
    assert reply.params["response_type"] == "ephemeral"
    assert "Did you mean /remind?" in texts(blocks_of(reply.params))
    await rig.command("/shipwatch", "")
    [_, help_reply] = await rig.fake.wait_for("respond", count=2)
    assert help_reply.params["response_type"] == "ephemeral"
    assert "/release" in texts(blocks_of(help_reply.params))


async def test_someone_unknown_to_shipwatch_is_a_guest_without_roles(rig: Rig) -> None:
    await rig.command("/release", "start web 1.4.2", user="U0STRANGER")
    [reply] = await rig.fake.wait_for("respond")
    assert reply.params["response_type"] == "ephemeral"
    assert "responder" in texts(blocks_of(reply.params))


@pytest.mark.parametrize(
    ("secret", "age"), [("not-the-secret", 0.0), (SECRET, 6 * 60.0)], ids=["forged", "stale"]
)
async def test_a_forged_or_stale_signature_is_refused_and_runs_nothing(
    rig: Rig, secret: str, age: float
) -> None:
    before = audit_count(rig.app)
    response = await rig.command("/remind", "10m forged", secret=secret, age=age)
    assert response.status == 401
    assert rig.fake.of("respond") == []
    assert audit_count(rig.app) == before


async def test_url_verification_is_answered(rig: Rig) -> None:
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c-123"})
    response = await rig.signed(body, content_type="application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == "c-123"


async def test_a_mention_is_a_command_and_a_retried_event_changes_nothing(rig: Rig) -> None:
    event = {
        "type": "app_mention",
        "user": "U0BOB",
        "text": "<@UBOT> remind 10m check the canary",
        "channel": "C0OPS",
        "ts": "1700000000.000300",
    }
    assert (await rig.event(event, event_id="Ev01")).status == 200
    [post] = await rig.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "C0OPS"
    assert "Reminder #1" in texts(blocks_of(post.params))
    retry = await rig.event(event, event_id="Ev01", **{"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    await rig.command("/shipwatch", "reminders")  # a later reply proves the retry was handled
    [listing] = await rig.fake.wait_for("respond")
    assert "#1" in texts(blocks_of(listing.params))
    assert "#2" not in texts(blocks_of(listing.params))
    assert len(rig.fake.of("chat.postMessage")) == 1


async def test_an_incident_pages_over_slack_and_the_button_acknowledges_it(rig: Rig) -> None:
    await rig.command("/incident", 'open "checkout down" --sev P0 --service web')
    [opened] = await rig.fake.wait_for("respond")
    assert opened.params["response_type"] == "in_channel", texts(blocks_of(opened.params))
    await rig.app.settle()
    dms = [c for c in rig.fake.of("chat.postMessage") if c.params["channel"] == "U0BOB"]
    assert dms, [c.params["channel"] for c in rig.fake.of("chat.postMessage")]
    page = dms[0].params
    assert page["attachments"][0]["color"] == "#e01e5a"  # P0 pages are red
    [actions] = [b for b in blocks_of(page) if b["type"] == "actions"]
    labels = {e["text"]["text"]: e["action_id"] for e in actions["elements"]}
    assert set(labels) >= {"Acknowledge", "Escalate"}
    await rig.press(labels["Acknowledge"], user="U0BOB", channel="D0BOB")
    replies = await rig.fake.wait_for("respond", count=2)
    assert "You acknowledged page #1" in texts(blocks_of(replies[-1].params)), texts(
        blocks_of(replies[-1].params)
    )
    with unit_of_work(rig.app.engine) as session:
        [entry] = [a for a in session.exec(select(AuditEntry)).all() if a.command == "ack"]
        assert entry.actor == "bob"


async def test_a_429_waits_as_slack_asks_and_then_delivers(rig: Rig) -> None:
    rig.fake.fail("chat.postMessage", Failure(status=429, retry_after=30))
    await rig.command("/remind", "1m stand-up")
    await rig.fake.wait_for("respond")
    await rig.app.advance_to(START.replace(minute=1))
    assert len(rig.fake.of("chat.postMessage!failed")) == 1
    assert rig.fake.of("chat.postMessage") == []
    await rig.app.advance_to(START.replace(minute=1, second=29))
    assert rig.fake.of("chat.postMessage") == []  # not before Retry-After
    await rig.app.advance_to(START.replace(minute=1, second=31))
    [post] = rig.fake.of("chat.postMessage")
    assert "stand-up" in texts(blocks_of(post.params))


def outbox_rows(rig: Rig) -> list[OutboxMessage]:
    with unit_of_work(rig.app.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.address == "C0OPS")))


async def test_waiting_out_a_rate_limit_is_not_failing_however_long_it_lasts(rig: Rig) -> None:
    max_attempts = rig.app.settings.outbox_max_attempts
    throttles = max_attempts + 4
    rig.fake.fail("chat.postMessage", *[Failure(status=429, retry_after=30)] * throttles)
    await rig.command("/remind", "1m after the storm")
    await rig.fake.wait_for("respond")
    await rig.app.advance_to(START.replace(minute=1))
    [row] = outbox_rows(rig)
    assert (row.state, row.attempts, row.last_error) == ("pending", 0, "slack: rate limited")
    await rig.app.advance_to(START.replace(minute=30))
    assert len(rig.fake.of("chat.postMessage!failed")) == throttles
    [post] = rig.fake.of("chat.postMessage")
    assert "after the storm" in texts(blocks_of(post.params))
    [row] = outbox_rows(rig)
    assert (row.state, row.attempts) == ("sent", 1), "only the send that went out counted"


async def test_a_real_failure_still_dies_after_the_maximum_attempts(rig: Rig) -> None:
    max_attempts = rig.app.settings.outbox_max_attempts
    broken = Failure(status=500, error="internal_error", channel="C0OPS")
    rig.fake.fail("chat.postMessage", *[broken] * (max_attempts + 4))
    await rig.command("/remind", "1m into the fire")
    await rig.fake.wait_for("respond")
    await rig.app.advance_to(START.replace(hour=5))
    assert len(rig.fake.of("chat.postMessage!failed")) == max_attempts
    [row] = outbox_rows(rig)
    assert (row.state, row.attempts) == ("dead", max_attempts)


async def test_a_channel_that_is_gone_is_set_aside_and_told_to_the_admins_once(rig: Rig) -> None:
    gone = Failure(status=200, error="channel_not_found", channel="C0OPS")
    rig.fake.fail("chat.postMessage", gone, gone)
    await rig.command("/remind", "1m into the void")
    await rig.command("/remind", "2m into the void again")
    await rig.fake.wait_for("respond", count=2)
    await rig.app.advance_to(START.replace(minute=5))
    assert len(rig.fake.of("chat.postMessage!failed")) == 2
    with unit_of_work(rig.app.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.address == "C0OPS")).all()
        assert [(r.state, r.attempts) for r in rows] == [("dead", 1), ("dead", 1)]
        assert rows[0].last_error == "slack: channel_not_found"
    [report] = [c for c in rig.fake.of("chat.postMessage") if c.params["channel"] != "C0OPS"]
    assert report.params["channel"] == "shipwatch-admin"
    text = texts(blocks_of(report.params))
    assert "could not be delivered: slack: channel_not_found" in text
    assert f"/admin redeliver {rows[0].id}" in text


async def test_the_bot_token_is_sent_to_slack_and_nowhere_else(rig: Rig) -> None:
    await rig.command("/release", "status web")
    await rig.fake.wait_for("respond")
    assert {c.token for c in rig.fake.calls if c.method != "respond"} == {"xoxb-test-token"}
    assert all("xoxb" not in json.dumps(c.params) for c in rig.fake.calls)


async def test_socket_mode_takes_commands_over_the_websocket(
    tmp_path: Path, sqlite_url: str
) -> None:
    fake = FakeSlack()
    api_url = await fake.start()
    config = load(chat_config(tmp_path / "config", first="slack"))
    settings = Settings(
        database_url=sqlite_url,
        slack_bot_token="xoxb-test-token",
        slack_app_token="xapp-test-token",
        slack_api_url=api_url,
    )
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    app = Application(
        settings=settings,
        config=config,
        engine=engine,
        clock=VirtualClock(START),
        adapters=adapters.build(settings, config),
        seed=0,
    )
    await app.start()
    try:
        [opened] = await fake.wait_for("apps.connections.open")
        assert opened.token == "xapp-test-token"
        await fake.push(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": "T1",
                    "channel_id": "C0OPS",
                    "user_id": "U0CAROL",
                    "command": "/oncall",
                    "text": "who web",
                    "response_url": fake.response_url("socket"),
                    "trigger_id": "socket.1",
                    "api_app_id": "A1",
                },
            }
        )
        runner, port = await serve(app, host="127.0.0.1", port=0)
        async with aiohttp.ClientSession() as client:
            unsigned = await client.post(
                f"http://127.0.0.1:{port}/slack/events",
                data="command=%2Fwhoami&user_id=U0ALICE&channel_id=C0OPS",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert unsigned.status == 404  # no signing secret: no HTTP way in at all
        await runner.cleanup()
        [ack] = await fake.wait_for("socket.ack")
        assert ack.params["envelope_id"] == "env-1"
        [reply] = await fake.wait_for("respond")
        assert "*Primary*\n<@U0BOB> until" in texts(blocks_of(reply.params))  # a real mention
    finally:
        await app.stop()
        await fake.stop()
        engine.dispose()


async def test_a_revised_post_edits_the_earlier_message_in_place(rig: Rig) -> None:
    def progress(text: str, key: str = "release:1:progress") -> Post:
        return Post(Conversation("slack", "#releases"), Message.of(raw(text)), edit_key=key)

    async def write(*posts: Post) -> None:
        await write_effects(rig.app, *posts)

    await write(progress("10% for 30m"))
    [first] = rig.fake.of("chat.postMessage")
    await write(progress("30% for 5m"), progress("another release", key="release:2:progress"))
    [update] = rig.fake.of("chat.update")
    assert update.params["channel"] == "C0RELEASES"  # the id Slack answered the post with
    assert update.params["ts"] == first.answer["ts"]
    assert "30% for 5m" in texts(blocks_of(update.params))
    assert len(rig.fake.of("chat.postMessage")) == 2  # the other release's report is new
    rig.fake.fail("chat.update", Failure(error="message_not_found"))
    await write(progress("50% for 1h"))
    assert "50% for 1h" in texts(blocks_of(rig.fake.of("chat.postMessage")[-1].params))
    assert first.params["channel"] == "releases"


async def test_a_revision_with_nothing_new_is_an_edit_or_nothing(rig: Rig) -> None:
    def progress(text: str, *, only: bool, key: str = "release:1:progress") -> Post:
        message = Message.of(raw(text))
        return Post(Conversation("slack", "#releases"), message, edit_key=key, revision_only=only)

    async def write(*posts: Post) -> None:
        await write_effects(rig.app, *posts)

    await write(progress("refreshed before anything was said", only=True))
    assert rig.fake.of("chat.postMessage") == []  # nothing to edit: nothing said
    await write(progress("10% for 30m", only=False))
    [first] = rig.fake.of("chat.postMessage")
    await write(progress("10% for 1h", only=True))
    [update] = rig.fake.of("chat.update")
    assert update.params["ts"] == first.answer["ts"]
    assert "10% for 1h" in texts(blocks_of(update.params))
    rig.fake.fail("chat.update", Failure(error="message_not_found"))
    await write(progress("10% for 1h 30m", only=True))
    assert len(rig.fake.of("chat.postMessage")) == 1  # gone: not posted anew


async def test_a_refused_request_logs_one_line_without_its_body(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.logs import configure

    configure("INFO", secrets=rig.app.settings.secret_values())  # as `shipwatch run` does
    logging.getLogger().addHandler(caplog.handler)
    await rig.command("/remind", "10m forged", secret="not-the-secret")
    lines = [r for r in caplog.records if r.levelno >= 20 and r.name.startswith(("slack", "ship"))]
    assert [r.getMessage() for r in lines] == [
        "slack request refused: signature missing, wrong or stale"
    ]


async def test_a_report_chart_is_linked_and_uploaded_beside_the_message(rig: Rig) -> None:
    from bot import charts
    from storage.repositories import summaries

    png = charts.render("error rate", [])
    with unit_of_work(rig.app.engine) as session:
        chart_id = summaries.store_chart(
            session, token="chart01", png=png, kind="daily", now=rig.clock.now()
        )
        runtime = rig.app.runtime
        report = Message(blocks=(raw("📋 Daily report"),), image=chart_id)
        apply(
            session,
            [Post(Conversation("slack", "#ops"), report)],
            now=rig.clock.now(),
            directory=runtime.directory,
            new_token=runtime.new_token,
            reachable=runtime.reachable_platforms,
        )
    await rig.app.settle()
    [post] = rig.fake.of("chat.postMessage")
    [context] = [b for b in blocks_of(post.params) if b["type"] == "context"]
    assert context["elements"][0]["text"] == (
        f"<http://127.0.0.1:8080/charts/{chart_id}.png|📈 Chart>"
    )
    [upload] = rig.fake.of("upload")
    assert upload.params["body"] == png
    [done] = rig.fake.of("files.completeUploadExternal")
    assert done.params["channel_id"] == "C0OPS"


async def test_bodies_bolt_could_not_read_are_400_and_run_nothing(rig: Rig) -> None:
    before = audit_count(rig.app)
    payload = {"type": "block_actions", "actions": [{"action_id": "a\ud800", "value": "x"}]}
    for body, content_type in (
        ('{"type": "event_callback"', "application/json"),
        ("[1, 2]", "application/json"),
        (urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"),
        (json.dumps({"type": "event_callback", "event": {"text": "\udfff"}}), "application/json"),
    ):
        response = await rig.signed(body, content_type=content_type)
        assert response.status == 400, body
        assert "error" in await response.json()
    assert rig.fake.of("respond") == []
    assert audit_count(rig.app) == before


async def test_news_posted_in_a_channel_is_not_sent_again_to_its_members(rig: Rig) -> None:
    # Slack says who is in #ops (over two pages of conversations.members); carol is not.
    rig.fake.members["C0OPS"] = [*(f"U{n:05d}" for n in range(1500)), "U0ALICE", "U0BOB"]
    await rig.command("/incident", 'open "checkout slow" --sev P3')
    await rig.fake.wait_for("respond")
    await rig.command("/incident", "assign 1 scribe @bob")
    await rig.command("/incident", "assign 1 comms @carol")
    replies = await rig.fake.wait_for("respond", count=3)
    await rig.app.settle()
    # Said in #ops, where it was typed (the answer, in the channel).
    assert "<@U0BOB> is now scribe" in texts(blocks_of(replies[1].params))
    posts = rig.fake.of("chat.postMessage")
    assert [c for c in posts if c.params["channel"] == "U0BOB"] == []  # in #ops: no copy
    [carol] = [c for c in posts if c.params["channel"] == "U0CAROL"]
    assert "<@U0CAROL> is now communications lead" in texts(blocks_of(carol.params))
    # Asked once for the channel (two pages), then remembered.
    assert len(rig.fake.of("conversations.members")) == 2
    with unit_of_work(rig.app.engine) as session:
        states = {r.address: r.state for r in session.exec(select(OutboxMessage)).all()}
    assert states["U0BOB"] == "covered"
