"""Mattermost end to end: slash commands posted as Mattermost posts them reach the real
/mattermost/command route, buttons call back to /mattermost/actions as the server calls an
integration, and the adapter's REST API v4 calls land on a local fake Mattermost that
records them (posts, edits, direct channels, file uploads, 429s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
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
from playbooks.effects import Conversation, Post
from playbooks.messages import Message, raw
from storage import migrate
from storage.engine import make_engine
from storage.models import AuditEntry, OutboxMessage
from storage.unit_of_work import unit_of_work
from tests.conftest import START
from tests.fakes.chat_people import chat_config
from tests.fakes.mattermost_api import BOT_ID, TEAM, Failure, FakeMattermost, response_text
from tests.support import write_effects

# One token for /release alone, one for any command (as one setting holds them).
TOKENS = ("tok-release-0000000000000000", "tok-incident-000000000000000")
TOKEN_SETTING = f"release={TOKENS[0]},{TOKENS[1]}"
LINK_SECRET = "mattermost-test-action-secret"
IDS = {h: f"mm{h:0<24}" for h in ("alice", "bob", "carol", "dave", "mallory")}
CHANNELS = {n: f"ch{n:0<24}" for n in ("ops", "incidents", "releases", "tech", "web")}


@dataclass
class Rig:
    app: Application
    fake: FakeMattermost
    url: str
    client: aiohttp.ClientSession
    clock: VirtualClock
    sent: int = 0

    async def command(
        self,
        command: str,
        text: str,
        *,
        user: str = "alice",
        channel: str = "ops",
        token: str | None = TOKENS[1],
        response_url: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """The form Mattermost posts for a custom slash command."""
        self.sent += 1
        form = {
            "channel_id": CHANNELS.get(channel, channel),
            "channel_name": channel,
            "command": command,
            "response_url": response_url or self.fake.response_url(str(self.sent)),
            "team_domain": TEAM,
            "team_id": "teamid",
            "text": text,
            "trigger_id": f"trigger{self.sent}",
            "user_id": IDS.get(user, user),
            "user_name": user,
        }
        if token is not None:
            form["token"] = token
        response = await self.client.post(
            f"{self.url}/mattermost/command",
            data=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return response.status, await response.json()

    async def press(self, post: Any, label: str, *, user: str) -> tuple[int, dict[str, Any]]:
        [action] = [a for a in post.actions if a["name"] == label]
        response = await self.fake.press(self.url, action, user_id=IDS[user], post=post)
        return response.status, await response.json()

    async def write(self, *posts: Post) -> None:
        await write_effects(self.app, *posts)


def mattermost_settings(database_url: str, api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "mattermost_url": api_url,
        "mattermost_token": "mm-bot-token",
        "mattermost_command_tokens": TOKEN_SETTING,
        "mattermost_team": TEAM,
        "action_link_secret": LINK_SECRET,
        "admin_channel": "#ops",
        **overrides,
    }
    return Settings(**values)


def fake_mattermost() -> FakeMattermost:
    # Usernames unlike the handles: a mention Shipwatch did not resolve shows.
    fake = FakeMattermost(users={uid: f"{handle}-mm" for handle, uid in IDS.items()})
    fake.users[BOT_ID] = "shipwatch"
    fake.channels = {name: cid for name, cid in CHANNELS.items()}
    fake.members = {cid: {BOT_ID, *IDS.values()} for cid in CHANNELS.values()}
    return fake


def people(folder: Path) -> Path:
    also = {handle: {"mattermost": uid} for handle, uid in IDS.items()}
    return chat_config(folder, first="mattermost", also=also)


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    async for made in make_rig(tmp_path, database_url, people(tmp_path / "config")):
        yield made


async def make_rig(
    tmp_path: Path, database_url: str, config_dir: Path, **overrides: Any
) -> AsyncIterator[Rig]:
    """Shipwatch with the fake Mattermost; a slash command's answer is waited for up to
    30 s (a loaded test machine is slower than Mattermost's few seconds)."""
    fake = fake_mattermost()
    api_url = await fake.start()
    config = load(config_dir)
    settings = mattermost_settings(database_url, api_url, **overrides)
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
    app.adapters["mattermost"].answer_within = 30.0  # type: ignore[attr-defined]
    runner, port = await serve(app, host="127.0.0.1", port=0)
    await app.start()
    async with aiohttp.ClientSession() as client:
        yield Rig(app, fake, f"http://127.0.0.1:{port}", client, clock)
    await app.stop()
    await runner.cleanup()
    await fake.stop()
    engine.dispose()


def audit(app: Application) -> list[AuditEntry]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(AuditEntry)).all())


async def test_a_slash_command_is_answered_in_the_channel_within_the_response(rig: Rig) -> None:
    status, answer = await rig.command("/release", "status web", token=TOKENS[0])
    assert status == 200
    assert answer["response_type"] == "in_channel"
    assert "web" in response_text(answer)


async def test_the_umbrella_command_and_a_refusal_are_shown_to_the_asker_alone(rig: Rig) -> None:
    status, answer = await rig.command("/shipwatch", "remnd 10m hello")
    assert (status, answer["response_type"]) == (200, "ephemeral")
    assert "Did you mean /remind?" in answer["text"]


async def test_a_command_then_its_posts_go_through_the_rest_api(rig: Rig) -> None:
    status, answer = await rig.command("/remind", "1m stand-up", user="bob")
    assert status == 200, answer
    await rig.app.advance_to(START.replace(minute=1))
    [post] = rig.fake.of("posts.create")
    assert post.body["channel_id"] == CHANNELS["ops"]
    assert "stand-up" in post.body["message"]
    assert {c.token for c in rig.fake.calls} == {"mm-bot-token"}


@pytest.mark.parametrize(
    "token",
    [None, "tok-not-one-of-ours", TOKENS[1][:-1], TOKENS[0]],
    ids=["missing", "forged", "cut", "another-command's"],
)
async def test_a_command_without_its_token_is_refused_and_runs_nothing(
    rig: Rig, token: str | None
) -> None:
    before = len(audit(rig.app))
    status, answer = await rig.command("/incident", 'open "forged" --sev P0', token=token)
    assert status == (401 if token is None else 403)
    assert "SHIPWATCH_MATTERMOST_COMMAND_TOKENS" in answer["error"] or token is None
    await rig.app.settle()
    assert len(audit(rig.app)) == before
    assert rig.fake.calls == []


async def page_bob(rig: Rig) -> Any:
    status, answer = await rig.command("/incident", 'open "checkout down" --sev P0 --service web')
    assert (status, answer["response_type"]) == (200, "in_channel"), answer
    await rig.app.settle()
    [dm] = rig.fake.posts_in(rig.fake.direct_channel_of(IDS["bob"]))
    return dm


async def test_a_page_reaches_bob_by_direct_message_and_his_button_acknowledges_it(
    rig: Rig,
) -> None:
    dm = await page_bob(rig)
    assert rig.fake.of("channels.direct")[0].body == [BOT_ID, IDS["bob"]]
    assert dm.attachments[0]["color"] == "#d24b4e"  # a P0 pages in red
    labels = [a["name"] for a in dm.actions]
    assert {"Acknowledge", "Escalate"} <= set(labels)
    assert all(a["integration"]["url"].endswith("/mattermost/actions") for a in dm.actions)
    status, answer = await rig.press(dm, "Acknowledge", user="bob")
    assert status == 200, answer
    await rig.app.settle()
    reply = rig.fake.posts_in(dm.channel_id)[-1]
    assert "You acknowledged page #1" in reply.text, reply.text
    [entry] = [a for a in audit(rig.app) if a.command == "ack"]
    assert (entry.actor, entry.platform) == ("bob", "mattermost")


async def test_a_button_pressed_again_is_refused_by_the_ledger(rig: Rig) -> None:
    dm = await page_bob(rig)
    await rig.press(dm, "Acknowledge", user="bob")
    await rig.app.settle()
    posts = len(rig.fake.of("posts.create"))
    status, answer = await rig.press(dm, "Acknowledge", user="bob")
    assert status == 200
    assert "pressed this button already" in answer["ephemeral_text"]
    await rig.app.settle()
    assert len([a for a in audit(rig.app) if a.command == "ack"]) == 1
    assert len(rig.fake.of("posts.create")) == posts


async def test_a_forged_or_altered_context_is_refused_and_runs_nothing(rig: Rig) -> None:
    dm = await page_bob(rig)
    before = (len(audit(rig.app)), len(rig.fake.calls))
    [ack] = [a for a in dm.actions if a["name"] == "Acknowledge"]
    sealed = ack["integration"]["context"]["action"]
    payload, _, signature = sealed.partition(".")
    forged = [
        {"action": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature},
        {"action": payload + "." + signature[::-1]},
        {"action": "not-sealed"},
        {},
    ]
    for context in forged:
        action = {**ack, "integration": {**ack["integration"], "context": context}}
        response = await rig.fake.press(rig.url, action, user_id=IDS["bob"], post=dm)
        assert response.status in (400, 403), context
    # Bob's button pressed by someone else, or from another channel, is refused too.
    response = await rig.fake.press(rig.url, ack, user_id=IDS["mallory"], post=dm)
    assert response.status == 403
    assert "sent to someone else" in (await response.json())["error"]
    elsewhere = type(dm)(**{**dm.__dict__, "channel_id": CHANNELS["ops"]})
    response = await rig.fake.press(rig.url, ack, user_id=IDS["bob"], post=elsewhere)
    assert response.status == 403
    await rig.app.settle()
    assert (len(audit(rig.app)), len(rig.fake.calls)) == before


async def test_a_revised_post_is_edited_in_place(rig: Rig) -> None:
    def progress(text: str, key: str = "release:1:progress") -> Post:
        return Post(Conversation("mattermost", "#releases"), Message.of(raw(text)), edit_key=key)

    await rig.write(progress("10% for 30m"))
    [first] = rig.fake.of("posts.create")
    assert first.body["channel_id"] == CHANNELS["releases"]  # looked up by name in the team
    await rig.write(progress("30% for 5m"))
    [edit] = rig.fake.of("posts.patch")
    assert edit.path.endswith(f"/posts/{first.answer['id']}/patch")
    assert "30% for 5m" in edit.body["message"]
    assert len(rig.fake.of("posts.create")) == 1
    del rig.fake.posts[first.answer["id"]]  # deleted by someone: posted anew
    await rig.write(progress("50% for 1h"))
    assert "50% for 1h" in rig.fake.of("posts.create")[-1].body["message"]


async def test_a_report_chart_is_uploaded_and_attached_to_its_post(rig: Rig) -> None:
    from bot import charts
    from storage.repositories import summaries

    png = charts.render("error rate", [])
    with unit_of_work(rig.app.engine) as session:
        chart_id = summaries.store_chart(
            session, token="chart01", png=png, kind="daily", now=rig.clock.now()
        )
    report = Message(blocks=(raw("📋 Daily report"),), image=chart_id)
    await rig.write(Post(Conversation("mattermost", "#ops"), report))
    [upload] = rig.fake.of("files.upload")
    assert upload.body["bytes"] == png
    assert upload.body["channel_id"] == CHANNELS["ops"]
    [post] = rig.fake.of("posts.create")
    assert post.body["file_ids"] == [upload.answer["file_infos"][0]["id"]]
    assert f"/charts/{chart_id}.png" in post.body["message"]


async def test_a_429_waits_for_x_ratelimit_reset_and_then_delivers(rig: Rig) -> None:
    rig.fake.fail("posts.create", Failure(status=429, reset=30))
    await rig.command("/remind", "1m stand-up")
    await rig.app.advance_to(START.replace(minute=1))
    assert len(rig.fake.of("posts.create!failed")) == 1
    await rig.app.advance_to(START.replace(minute=1, second=29))
    assert rig.fake.of("posts.create") == []  # not before the reset
    await rig.app.advance_to(START.replace(minute=1, second=31))
    [post] = rig.fake.of("posts.create")
    assert "stand-up" in post.body["message"]
    with unit_of_work(rig.app.engine) as session:
        [row] = session.exec(select(OutboxMessage)).all()
    assert (row.state, row.attempts) == ("sent", 1)


async def test_people_are_mentioned_by_username_and_at_channel_is_not(rig: Rig) -> None:
    await rig.write(
        Post(
            Conversation("mattermost", "#ops"),
            Message.of(raw("@bob please look; @channel is not called; @nobody neither")),
        )
    )
    [post] = rig.fake.of("posts.create")
    message = post.body["message"]
    assert "@bob-mm please" in message  # bob's username on the server
    assert "@channel" not in message
    assert "@nobody" not in message


async def test_me_lists_the_mattermost_identity_first(rig: Rig) -> None:
    status, answer = await rig.command("/me", "", user="bob")
    assert (status, answer["response_type"]) == (200, "ephemeral")
    text = response_text(answer)
    assert f"1. mattermost:{IDS['bob']} (pages go here first)" in text, text


def test_check_says_what_mattermost_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    folder = people(tmp_path / "config")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("TOKEN", "COMMAND_TOKENS", "TEAM"):
        monkeypatch.delenv(f"SHIPWATCH_MATTERMOST_{name}", raising=False)
    monkeypatch.delenv("SHIPWATCH_ACTION_LINK_SECRET", raising=False)
    monkeypatch.setenv("SHIPWATCH_MATTERMOST_URL", "https://chat.example.com")
    assert main(["check", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert "SHIPWATCH_MATTERMOST_TOKEN is not set" in err
    assert "SHIPWATCH_MATTERMOST_COMMAND_TOKENS is not set" in out
    assert "SHIPWATCH_ACTION_LINK_SECRET is not set" in out
    monkeypatch.setenv("SHIPWATCH_MATTERMOST_TOKEN", "mm-bot-token")
    monkeypatch.setenv("SHIPWATCH_MATTERMOST_COMMAND_TOKENS", TOKEN_SETTING)
    monkeypatch.setenv("SHIPWATCH_ACTION_LINK_SECRET", LINK_SECRET)
    assert main(["check", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "MATTERMOST" not in out + err
    assert "mm-bot-token" not in out + err


def test_a_start_without_the_bot_token_stops_with_what_to_set(tmp_path: Path) -> None:
    from bot.errors import StartupError

    config = load(people(tmp_path / "config"))
    settings = Settings(
        database_url="sqlite://", mattermost_url="https://chat.example.com", _env_file=None
    )
    with pytest.raises(StartupError, match="SHIPWATCH_MATTERMOST_TOKEN is not set"):
        adapters.build(settings, config)


async def test_a_slow_command_is_answered_later_through_the_response_url(rig: Rig) -> None:
    adapter = rig.app.adapters["mattermost"]
    adapter.answer_within = 0.0  # type: ignore[attr-defined]  # slower than Mattermost waits
    status, answer = await rig.command("/release", "status web")
    assert (status, answer) == (200, {})
    [late] = await rig.fake.wait_for("respond")
    assert late.body["response_type"] == "in_channel"
    assert "web" in response_text(late.body)
    # A response URL that is not the Mattermost server's is never called.
    await rig.command("/release", "status web", response_url="http://127.0.0.1:9/hooks/x")
    await adapter.settled()  # type: ignore[attr-defined]
    assert len(rig.fake.of("respond")) == 1


async def test_a_slash_command_sent_again_changes_nothing(rig: Rig) -> None:
    status, first = await rig.command("/remind", "10m check the canary")
    assert status == 200, first
    rig.sent -= 1  # the same request again: its trigger_id too
    status, again = await rig.command("/remind", "10m check the canary")
    assert (status, again) == (200, {})
    _, listing = await rig.command("/shipwatch", "reminders")
    assert "1 reminder pending here" in response_text(listing)


async def test_an_expired_button_is_refused_and_runs_nothing(rig: Rig) -> None:
    dm = await page_bob(rig)
    before = len(audit(rig.app))
    rig.clock.advance(timedelta(days=30))  # past any button's life
    status, answer = await rig.press(dm, "Acknowledge", user="bob")
    assert status == 200
    assert "expired" in answer["ephemeral_text"]
    assert len(audit(rig.app)) == before


async def test_news_said_in_a_channel_is_not_sent_again_to_its_members(rig: Rig) -> None:
    rig.fake.members[CHANNELS["ops"]].discard(IDS["carol"])
    await rig.command("/incident", 'open "checkout slow" --sev P3')
    await rig.command("/incident", "assign 1 scribe @bob")
    _, comms = await rig.command("/incident", "assign 1 comms @carol")
    await rig.app.settle()
    assert "@carol-mm is now communications lead" in response_text(comms)
    assert rig.fake.posts_in(rig.fake.direct_channel_of(IDS["bob"])) == []
    [carol] = rig.fake.posts_in(rig.fake.direct_channel_of(IDS["carol"]))
    assert "@carol-mm is now communications lead" in carol.text
    asked = {c.path.rsplit("/", 1)[-1] for c in rig.fake.calls if "members/" in c.path}
    assert asked >= {IDS["bob"]}


async def test_bodies_that_are_not_a_command_or_a_press_are_refused_and_run_nothing(
    rig: Rig,
) -> None:
    before = len(audit(rig.app))
    form = "application/x-www-form-urlencoded"
    for path, body, content_type, expected in (
        ("command", b"token=" + TOKENS[1].encode() + b"&text=\xff", form, 400),
        ("command", "token=" + TOKENS[1] + "&command=%2Frelease", form, 400),
        ("command", "x" * 70_000, form, 413),
        ("actions", '{"user_id": "u", "channel_id": "c"', "application/json", 400),
        ("actions", "[1, 2]", "application/json", 400),
        ("actions", '{"user_id": "\\ud800", "channel_id": "c"}', "application/json", 400),
        ("actions", '{"channel_id": "c", "context": {"action": "x.y"}}', "application/json", 400),
    ):
        response = await rig.client.post(
            f"{rig.url}/mattermost/{path}", data=body, headers={"Content-Type": content_type}
        )
        assert response.status == expected, (path, body)
        assert "error" in await response.json()
    await rig.app.settle()
    assert len(audit(rig.app)) == before
    assert rig.fake.calls == []
