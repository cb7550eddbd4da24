"""Discord end to end: interactions signed with a real Ed25519 key reach the real
/discord/interactions route; replies, posts, direct messages and charts go through the
REST client to a local fake of Discord's API that keeps its rate limit buckets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.adapters.base import RoomRefused
from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord_interactions import public_key
from bot.adapters.discord_rest import DiscordRest
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import DEFAULTS, load
from bot.http import serve
from bot.http_client import HttpClient
from bot.settings import Settings
from commands.core.effects import apply
from playbooks.effects import Conversation, Post
from playbooks.errors import AdapterError
from playbooks.messages import Message, raw
from storage import migrate
from storage.engine import make_engine
from storage.models import AuditEntry, OutboxMessage, PageRow, SeenEvent
from storage.unit_of_work import unit_of_work
from tests.conftest import START
from tests.fakes.discord_api import APPLICATION_ID, TOKEN, Failure, FakeDiscord, Signer
from tests.support import count

ALICE, BOB, CAROL = "80351110224678912", "80351110224678913", "80351110224678914"
GUILD = "613425648685547541"
OPS, INCIDENTS, WEB = "700000000000000001", "700000000000000002", "700000000000000003"
IDS = {"alice": ALICE, "bob": BOB, "carol": CAROL, "dave": "80351110224678915"}


def discord_config(folder: Path) -> Path:
    """The shipped configuration with a Discord identity for everyone, and the channels
    news goes to known by their Discord ids."""
    folder.mkdir(parents=True, exist_ok=True)
    people = (DEFAULTS / "people.yaml").read_text()
    for handle, user_id in IDS.items():
        people = people.replace(
            f"      console: {handle}\n", f'      discord: "{user_id}"\n      console: {handle}\n'
        )
    (folder / "people.yaml").write_text(people)
    (folder / "channels.yaml").write_text(
        f'discord:\n  "#ops": "{OPS}"\n  "#incidents": "{INCIDENTS}"\n'
        f'  "#web": "{WEB}"\n  "#releases": "{WEB}"\n  "#tech": "{WEB}"\n'
    )
    return folder


@dataclass
class Rig:
    app: Application
    adapter: DiscordAdapter
    fake: FakeDiscord
    signer: Signer
    clock: VirtualClock
    url: str
    client: aiohttp.ClientSession
    sent: int = 0
    answers: list[dict[str, Any]] = field(default_factory=list)

    async def signed(
        self, body: bytes, *, age: float = 0.0, signer: Signer | None = None
    ) -> aiohttp.ClientResponse:
        stamp = int(self.clock.now().timestamp() - age)
        headers = (signer or self.signer).headers(body, stamp)
        response = await self.client.post(self.url, data=body, headers=headers)
        await response.read()
        await self.adapter.settled()
        await self.app.settle()
        return response

    def interaction(
        self, kind: int, data: dict[str, Any], *, user: str, channel: str
    ) -> dict[str, Any]:
        self.sent += 1
        body: dict[str, Any] = {
            "id": str(1_300_000_000_000_000_000 + self.sent),
            "application_id": APPLICATION_ID,
            "type": kind,
            "data": data,
            "channel_id": channel,
            "token": f"interaction-token-{self.sent}",
            "version": 1,
            "locale": "en-US",
        }
        if channel.startswith("9"):  # a direct message: the person, not a member
            body["user"] = {"id": user, "username": "someone"}
        else:
            body["guild_id"] = GUILD
            body["member"] = {"user": {"id": user, "username": "someone"}, "roles": []}
        return body

    async def command(
        self, name: str, args: str = "", *, user: str = ALICE, channel: str = OPS
    ) -> tuple[aiohttp.ClientResponse, dict[str, Any]]:
        data: dict[str, Any] = {"id": "1", "name": name, "type": 1}
        if args:
            data["options"] = [{"name": "args", "type": 3, "value": args}]
        body = self.interaction(2, data, user=user, channel=channel)
        response = await self.signed(json.dumps(body).encode())
        return response, body

    async def press(
        self, custom_id: str, *, user: str, channel: str
    ) -> tuple[aiohttp.ClientResponse, dict[str, Any]]:
        data = {"custom_id": custom_id, "component_type": 2}
        body = self.interaction(3, data, user=user, channel=channel)
        response = await self.signed(json.dumps(body).encode())
        return response, body

    async def advance(self, **delta: float) -> None:
        await self.app.advance_to(self.clock.now() + timedelta(**delta))


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    clock = VirtualClock(START)
    fake = FakeDiscord(now=clock.now, per_channel=5, window=5.0)
    api_url = await fake.start()
    signer = Signer()
    config = load(discord_config(tmp_path / "config"))
    rest = DiscordRest(token=TOKEN, api_url=api_url, http=HttpClient(), clock=clock)
    adapter = DiscordAdapter(
        rest=rest,
        application_id=APPLICATION_ID,
        public_key=public_key(signer.public_hex),
        clock=clock,
        directory=config.directory,
        rooms_channel=INCIDENTS,
    )
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    app = Application(
        settings=Settings(database_url=database_url),
        config=config,
        engine=engine,
        clock=clock,
        adapters={"discord": adapter},
        seed=0,
    )
    runner, port = await serve(app, host="127.0.0.1", port=0)
    await app.start()
    async with aiohttp.ClientSession() as client:
        url = f"http://127.0.0.1:{port}/discord/interactions"
        yield Rig(app, adapter, fake, signer, clock, url, client)
    await app.stop()
    await runner.cleanup()
    await fake.stop()
    engine.dispose()


def webhook(body: dict[str, Any], tail: str = "") -> str:
    return f"/webhooks/{APPLICATION_ID}/{body['token']}{tail}"


async def test_a_ping_is_answered_with_a_pong(rig: Rig) -> None:
    response = await rig.signed(json.dumps({"id": "1", "type": 1, "version": 1}).encode())
    assert response.status == 200
    assert await response.json() == {"type": 1}
    assert rig.fake.calls == []


async def test_a_command_is_deferred_then_its_reply_edits_the_original(rig: Rig) -> None:
    response, body = await rig.command("release", "status")
    assert await response.json() == {"type": 5}, "deferred, shown to the channel"
    [edit] = rig.fake.of("PATCH", webhook(body, "/messages/@original"))
    assert "No release is in progress." in edit.text()
    assert "flags" not in edit.body
    assert edit.body["allowed_mentions"]["parse"] == [], "never @everyone from typed text"


async def test_a_reply_held_back_by_discord_goes_to_the_channel_through_the_outbox(
    rig: Rig,
) -> None:
    rig.fake.fail(r"PATCH /webhooks/.*/messages/@original", Failure(retry_after=30.0))
    _, body = await rig.command("release", "status")
    [held] = rig.fake.refused
    assert held.route == webhook(body, "/messages/@original")
    [queued] = rig.fake.messages(OPS)
    assert "No release is in progress." in queued.text()


async def test_help_is_deferred_for_the_asker_alone(rig: Rig) -> None:
    response, body = await rig.command("help")
    assert await response.json() == {"type": 5, "data": {"flags": 64}}
    [edit] = rig.fake.of("PATCH", webhook(body, "/messages/@original"))
    assert "/release" in edit.text()


async def test_a_refusal_is_shown_to_the_asker_alone(rig: Rig) -> None:
    response, body = await rig.command("shipwatch", "remnd 10m hello")
    assert await response.json() == {"type": 5}
    assert rig.fake.of("DELETE", webhook(body, "/messages/@original"))
    [followup] = rig.fake.of("POST", webhook(body))
    assert followup.body["flags"] == 64
    assert "Did you mean /remind?" in followup.text()
    assert rig.fake.of("PATCH", webhook(body, "/messages/@original")) == []


async def test_me_lists_the_discord_identity(rig: Rig) -> None:
    _, body = await rig.command("me")
    [edit] = rig.fake.of("PATCH", webhook(body, "/messages/@original"))
    assert f"1. discord:{ALICE}" in edit.text()
    assert edit.body["content"] == "", "the asker is not pinged by their own answer"
    assert edit.body["allowed_mentions"]["users"] == []


async def test_a_page_by_direct_message_is_acknowledged_with_its_button(rig: Rig) -> None:
    await rig.command("page", "@bob checkout is down")
    [opened] = rig.fake.of("POST", "/users/@me/channels")
    assert opened.body == {"recipient_id": BOB}
    dm = rig.fake.dm_channel(BOB)
    [page] = [c for c in rig.fake.messages(dm) if "checkout is down" in c.text()]
    labels = [b["label"] for b in page.buttons()]
    assert "Acknowledge" in labels
    acknowledge = page.buttons()[labels.index("Acknowledge")]["custom_id"]
    assert len(acknowledge) <= 100
    response, body = await rig.press(acknowledge, user=BOB, channel=dm)
    assert await response.json() == {"type": 6}, "acknowledged without a loading state"
    [followup] = rig.fake.of("POST", webhook(body))
    assert "acknowledged" in followup.text().lower()
    with unit_of_work(rig.app.engine) as session:
        assert session.exec(select(PageRow)).one().state == "acknowledged"


def post(rig: Rig, message: Message, channel: str = OPS) -> None:
    with unit_of_work(rig.app.engine) as session:
        apply(
            session,
            [Post(Conversation("discord", channel), message)],
            now=rig.clock.now(),
            directory=rig.app.runtime.directory,
            new_token=rig.app.runtime.new_token,
            reachable=rig.app.runtime.reachable_platforms,
        )


async def test_a_report_chart_is_attached_to_its_message(rig: Rig) -> None:
    from bot import charts
    from storage.repositories import summaries

    png = charts.render("error rate", [])
    with unit_of_work(rig.app.engine) as session:
        chart_id = summaries.store_chart(
            session, token="chart01", png=png, kind="daily", now=rig.clock.now()
        )
    post(rig, Message(blocks=(raw("📋 Daily report"),), image=chart_id))
    await rig.app.settle()
    [sent] = rig.fake.messages(OPS)
    name = f"chart-{chart_id}.png"
    assert sent.files == {name: png}
    assert sent.body["attachments"] == [{"id": 0, "filename": name}]
    assert sent.body["embeds"][0]["image"] == {"url": f"attachment://{name}"}


async def test_a_spent_bucket_is_waited_out_without_a_429(rig: Rig) -> None:
    rig.fake.per_channel = 2
    for n in range(3):
        post(rig, Message.of(raw(f"news {n}")))
    await rig.app.settle()
    assert [c.text() for c in rig.fake.messages(OPS)] == ["\nnews 0", "\nnews 1"]
    assert rig.fake.refused == [], "Remaining 0 was honoured: Discord never had to refuse"
    await rig.advance(seconds=5)
    assert [c.text() for c in rig.fake.messages(OPS)][-1] == "\nnews 2"
    with unit_of_work(rig.app.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.state != "sent")).all()
    assert rows == []


async def test_a_global_429_is_retried_after_retry_after(rig: Rig) -> None:
    rig.fake.fail(f"POST /channels/{OPS}/messages", Failure(retry_after=7.0, whole_bot=True))
    post(rig, Message.of(raw("held news")))
    await rig.app.settle()
    assert len(rig.fake.refused) == 1
    assert rig.fake.messages(OPS) == []
    await rig.advance(seconds=6)
    assert rig.fake.messages(OPS) == [], "not before Discord's retry_after"
    assert len(rig.fake.refused) == 1, "the whole bot held: nothing was tried meanwhile"
    await rig.advance(seconds=1)
    [sent] = rig.fake.messages(OPS)
    assert "held news" in sent.text()


async def test_an_incident_room_is_a_thread_with_its_summary_pinned(rig: Rig) -> None:
    tr = rig.app.translator("en")
    made = await rig.adapter.open_room(
        "inc-1-checkout", topic="checkout returns 500", summary=Message.of(raw("#1")), tr=tr
    )
    [thread] = rig.fake.of("POST", f"/channels/{INCIDENTS}/threads")
    assert thread.body["name"] == "inc-1-checkout"
    [summary] = rig.fake.messages(made.room_id)
    assert made.summary_ref == f"{made.room_id} {summary_id(rig)}"
    assert summary.body["embeds"][0]["description"] == "\\#1"
    await rig.adapter.invite_to_room(made.room_id, [BOB], tr=tr)
    assert rig.fake.of("PUT", f"/channels/{made.room_id}/thread-members/{BOB}")
    await rig.adapter.close_room(made.room_id, tr=tr)
    [closed] = rig.fake.of("PATCH", f"/channels/{made.room_id}")
    assert closed.body == {"archived": True, "locked": True}


def summary_id(rig: Rig) -> str:
    pins = rig.fake.of("PUT", r"/channels/\d+/pins/\d+")
    return pins[-1].route.rsplit("/", 1)[1]


async def test_a_429_on_one_channel_holds_back_only_that_channel(rig: Rig) -> None:
    rig.fake.fail(f"POST /channels/{OPS}/messages", Failure(retry_after=3.0))
    post(rig, Message.of(raw("ops news")), OPS)
    post(rig, Message.of(raw("web news")), WEB)
    await rig.app.settle()
    assert [c.text() for c in rig.fake.messages(WEB)] == ["\nweb news"]
    assert rig.fake.messages(OPS) == []
    await rig.advance(seconds=3)
    assert [c.text() for c in rig.fake.messages(OPS)] == ["\nops news"]


async def test_direct_messages_reuse_the_channel_discord_opened(rig: Rig) -> None:
    tr = rig.app.translator("en")
    first = await rig.adapter.direct_message(BOB, Message.of(raw("one")), tr=tr)
    second = await rig.adapter.direct_message(BOB, Message.of(raw("two")), tr=tr)
    assert len(rig.fake.of("POST", "/users/@me/channels")) == 1
    dm = rig.fake.dm_channel(BOB)
    assert [c.text() for c in rig.fake.messages(dm)] == ["\none", "\ntwo"]
    assert first is not None
    assert first.startswith(f"{dm} ")
    assert second != first


async def test_an_edit_in_place_and_one_discord_no_longer_allows(rig: Rig) -> None:
    tr = rig.app.translator("en")
    ref = await rig.adapter.post(OPS, Message.of(raw("rollout 10%")), tr=tr)
    assert ref is not None
    assert await rig.adapter.update(ref, Message.of(raw("rollout 50%")), tr=tr) == ref
    [edit] = rig.fake.of("PATCH", rf"/channels/{OPS}/messages/\d+")
    assert "rollout 50%" in edit.text()
    rig.fake.fail(r"PATCH /channels/\d+/messages/\d+", Failure(404, code=10008))
    assert await rig.adapter.update(ref, Message.of(raw("rollout 100%")), tr=tr) is None


async def test_a_post_to_a_channel_without_an_id_says_which_to_add(rig: Rig) -> None:
    with pytest.raises(AdapterError) as raised:
        await rig.adapter.post("#launch", Message.of(raw("x")), tr=rig.app.translator("en"))
    assert raised.value.permanent
    assert "channels.yaml" in str(raised.value.text.params["reason"])
    assert rig.fake.calls == []


async def test_a_thread_without_permission_keeps_the_shared_channel(rig: Rig) -> None:
    rig.fake.fail(
        rf"POST /channels/{INCIDENTS}/threads",
        Failure(403, code=50013, message="Missing Permissions"),
    )
    with pytest.raises(RoomRefused) as refused:
        await rig.adapter.open_room(
            "inc-2", topic="t", summary=Message.of(raw("#2")), tr=rig.app.translator("en")
        )
    assert "Create Public Threads" in refused.value.reason


# --- inbound security: each refused, nothing run, nothing stored, nothing sent ---------------


def nothing_happened(rig: Rig) -> None:
    assert (count(rig, AuditEntry), count(rig, SeenEvent)) == (0, 0)
    assert rig.fake.calls == []


async def test_a_forged_signature_is_refused(rig: Rig) -> None:
    body = json.dumps(rig.interaction(2, {"name": "remind"}, user=ALICE, channel=OPS)).encode()
    response = await rig.signed(body, signer=Signer())
    assert response.status == 401
    assert "SHIPWATCH_DISCORD_PUBLIC_KEY" in (await response.json())["error"]
    nothing_happened(rig)


async def test_a_stale_timestamp_is_refused(rig: Rig) -> None:
    body = json.dumps(rig.interaction(2, {"name": "help"}, user=ALICE, channel=OPS)).encode()
    response = await rig.signed(body, age=6 * 60)
    assert response.status == 401
    assert "five minutes" in (await response.json())["error"]
    nothing_happened(rig)


async def test_a_replayed_interaction_is_refused(rig: Rig) -> None:
    data = {"name": "remind", "options": [{"name": "args", "value": "10m look"}]}
    body = json.dumps(rig.interaction(2, data, user=ALICE, channel=OPS)).encode()
    first = await rig.signed(body)
    assert first.status == 200
    audits, calls = count(rig, AuditEntry), len(rig.fake.calls)
    again = await rig.signed(body)
    assert again.status == 403
    assert (count(rig, AuditEntry), len(rig.fake.calls)) == (audits, calls)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"type": 2, "id": "1"}', b'{"type": 4, "id": "1"}'],
    ids=["not-json", "not-an-object", "no-token-or-user", "autocomplete"],
)
async def test_a_bad_body_is_refused(rig: Rig, body: bytes) -> None:
    response = await rig.signed(body)
    assert response.status == 400
    assert (await response.json())["error"]
    nothing_happened(rig)


async def test_unsigned_requests_are_refused(rig: Rig) -> None:
    async with rig.client.post(rig.url, data=b'{"type": 1}') as response:
        assert response.status == 401
    nothing_happened(rig)
