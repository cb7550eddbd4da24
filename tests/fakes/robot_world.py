"""A Shipwatch with its DingTalk and Feishu adapters pointed at local fake robots, its
HTTP server on loopback, a virtual clock, and people with DingTalk and Feishu identities."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.action_links import LinkSigner
from bot.adapters.base import Adapter
from bot.adapters.dingtalk import DingTalkAdapter
from bot.adapters.dingtalk_app import DingTalkApp
from bot.adapters.feishu import FeishuAdapter
from bot.adapters.feishu_app import FeishuApp
from bot.app import Application
from bot.clock import VirtualClock
from bot.config.directory import load
from bot.config.robots import robots
from bot.http import make_web_app
from bot.http_client import HttpClient
from bot.settings import Settings
from commands.core.invocations import CommandInvocation, Outcome
from playbooks.effects import Conversation
from storage import migrate
from storage.engine import make_engine
from tests.fakes import dingtalk_robot
from tests.fakes.dingtalk_app import DingTalkApi
from tests.fakes.dingtalk_robot import DingTalkRobots
from tests.fakes.feishu_app import FeishuOpenApi
from tests.fakes.feishu_bot import FeishuBots
from tests.fakes.loopback import serve

APP_SECRET = "dingtalk-app-secret-for-tests"
LINK_SECRET = "action-link-secret-for-tests"
PUBLIC_URL = "https://shipwatch.example.com"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
SECRETS = {"DT_SECRET": "SECdingtalk-robot-secret", "FS_SECRET": "feishu-bot-secret"}
DINGTALK_APP_KEY = "dingappkey4tests"
DINGTALK_ROBOT_CODE = "dingrobotcode4tests"
FEISHU_APP_ID = "cli_a1b2c3d4e5f6"
FEISHU_APP_SECRET = "feishu-app-secret-for-tests"
FEISHU_TOKEN = "feishu-verification-token-for-tests"

PEOPLE = """\
people:
  - handle: alice
    name: Alice Chen
    identities: {dingtalk: staff-alice, feishu: ou_alice, console: alice}
  - handle: bob
    name: Bob Li
    locale: zh
    identities: {dingtalk: staff-bob, feishu: ou_bob, console: bob}
  - handle: carol
    name: Carol Wang
    identities: {dingtalk: staff-carol, feishu: ou_carol}
  - handle: mallory
    name: Mallory Xu
    identities: {dingtalk: staff-mallory, feishu: ou_mallory}
"""
ROLES = """\
roles:
  admin: [alice]
  release-manager: [alice]
  responder: [bob, carol]
"""
CHANNELS = ("#releases", "#incidents", "#tech", "#ops")
DIRECT = ("staff-bob", "staff-alice", "ou_bob", "ou_alice")


def robots_yaml(direct: tuple[str, ...] = DIRECT) -> str:
    lines = ["dingtalk:"]
    for channel in CHANNELS:
        token = f"dt-{channel[1:]}-token"
        conversation = f"    conversation: cid-{channel[1:]}\n" if channel != "#ops" else ""
        entry = f'  "{channel}":\n    webhook: {token}\n    secret_env: DT_SECRET\n{conversation}'
        lines.append(entry.rstrip())
    for user in (u for u in direct if u.startswith("staff-")):
        lines.append(f'  "@{user}": {{webhook: dt-{user}-token, secret_env: DT_SECRET}}')
    lines.append("feishu:")
    for channel in CHANNELS:
        chat = f", conversation: oc_{channel[1:]}" if channel == "#releases" else ""
        lines.append(
            f'  "{channel}": {{webhook: fs-{channel[1:]}-hook, secret_env: FS_SECRET{chat}}}'
        )
    for user in (u for u in direct if u.startswith("ou_")):
        lines.append(f'  "@{user}": {{webhook: fs-{user}-hook, secret_env: FS_SECRET}}')
    return "\n".join(lines) + "\n"


def write_config(folder: Path, direct: tuple[str, ...] = DIRECT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.yaml").write_text(PEOPLE, "utf-8")
    (folder / "roles.yaml").write_text(ROLES, "utf-8")
    (folder / "robots.yaml").write_text(robots_yaml(direct), "utf-8")
    return folder


@dataclass
class World:
    app: Application
    clock: VirtualClock
    dingtalk_robots: DingTalkRobots
    feishu_bots: FeishuBots
    dingtalk_api: DingTalkApi  # the app's robot; used when the world runs with apps
    feishu_api: FeishuOpenApi
    base_url: str  # Shipwatch's own server
    client: aiohttp.ClientSession
    runners: list[web.AppRunner]
    signer: LinkSigner
    _messages: int = 0

    @property
    def dingtalk(self) -> DingTalkAdapter:
        adapter = self.app.adapters["dingtalk"]
        assert isinstance(adapter, DingTalkAdapter)
        return adapter

    async def callback(
        self,
        content: str,
        *,
        user: str = "staff-alice",
        conversation: str = "cid-releases",
        direct: bool = False,
        msg_id: str | None = None,
        timestamp_ms: int | None = None,
        secret: str = APP_SECRET,
        headers: dict[str, str] | None = None,
        session: str | None = None,
        session_expires_ms: int | None = None,
        session_webhook: str | None = None,
        settle: bool = True,
    ) -> aiohttp.ClientResponse:
        """A message to the enterprise robot, signed as DingTalk signs its callbacks (each
        with its own millisecond timestamp, so its own sign)."""
        self._messages += 1
        now_ms = int(self.clock.now().timestamp() * 1000)
        stamp = timestamp_ms if timestamp_ms is not None else now_ms + self._messages
        body = {
            "msgtype": "text",
            "text": {"content": content},
            "msgId": msg_id or f"msg-{self._messages}",
            "senderStaffId": user,
            "senderNick": user,
            "conversationId": conversation,
            "conversationType": "1" if direct else "2",
            "chatbotUserId": "robot-shipwatch",
            "sessionWebhook": session_webhook
            or self.dingtalk_robots.session_url(session or f"s-{conversation}"),
            "sessionWebhookExpiredTime": (
                now_ms + 90 * 60 * 1000 if session_expires_ms is None else session_expires_ms
            ),
        }
        signed = {"timestamp": str(stamp), "sign": dingtalk_robot.sign(secret, stamp)}
        response = await self.client.post(
            f"{self.base_url}/dingtalk/callback",
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                **(signed if headers is None else headers),
            },
        )
        if settle:
            await self.settled("dingtalk")
        return response

    async def feishu_event(
        self,
        text: str,
        *,
        user: str = "ou_alice",
        chat: str = "oc_releases",
        direct: bool = False,
        event_id: str | None = None,
        token: str | None = FEISHU_TOKEN,
        mentions: list[dict[str, Any]] | None = None,
        settle: bool = True,
    ) -> aiohttp.ClientResponse:
        """A message to the app's bot, as Feishu's event subscription posts it (schema 2.0)."""
        self._messages += 1
        header: dict[str, Any] = {
            "event_id": event_id or f"ev-{self._messages}",
            "event_type": "im.message.receive_v1",
            "create_time": str(int(self.clock.now().timestamp() * 1000)),
            "tenant_key": "tenant-1",
            "app_id": FEISHU_APP_ID,
        }
        if token is not None:
            header["token"] = token
        bot = {"key": "@_user_1", "id": {"open_id": "ou_shipwatch"}, "name": "Shipwatch"}
        event = {
            "sender": {"sender_id": {"open_id": user}, "sender_type": "user"},
            "message": {
                "message_id": f"om_in_{self._messages}",
                "chat_id": chat,
                "chat_type": "p2p" if direct else "group",
                "message_type": "text",
                "content": json.dumps({"text": text}),
                "mentions": [bot, *(mentions or [])],
            },
        }
        body = {"schema": "2.0", "header": header, "event": event}
        return await self.post_event(body, settle=settle)

    async def post_event(
        self, body: dict[str, Any], *, settle: bool = True
    ) -> aiohttp.ClientResponse:
        response = await self.client.post(
            f"{self.base_url}/feishu/events",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        if settle:
            await self.settled("feishu")
        return response

    async def settled(self, platform: str) -> None:
        """Until the commands the platform's callbacks brought have run (they run after the
        callback is answered) and what they sent is delivered."""
        adapter = self.app.adapters.get(platform)
        if isinstance(adapter, DingTalkAdapter | FeishuAdapter):
            await adapter.settled()
        await self.app.settle()

    async def say(self, text: str, *, platform: str, user: str, channel: str) -> Outcome:
        """A command from a person of ``platform``, its reply posted to the channel as the
        platform's inbound side would."""
        outcome = await self.app.dispatch(
            CommandInvocation(platform, user, Conversation(platform, channel), text)
        )
        if outcome.reply is not None:
            adapter = self.app.adapters[platform]
            await adapter.post(channel, outcome.reply, tr=self.app.translator(outcome.locale))
        await self.app.settle()
        return outcome

    async def open_link(self, url: str, *, method: str = "GET") -> tuple[int, str]:
        """A link as a person's browser opens it (the public URL proxies to this server)."""
        path = urlsplit(url).path
        async with self.client.request(method, f"{self.base_url}{path}") as response:
            answer = response.status, await response.text()
        await self.app.settle()
        return answer

    async def close(self) -> None:
        await self.client.close()
        await self.app.stop()
        for runner in self.runners:
            await runner.cleanup()
        await self.dingtalk_robots.stop()
        await self.dingtalk_api.stop()
        await self.feishu_bots.stop()
        self.app.engine.dispose()


async def make_world(
    database_url: str,
    folder: Path,
    *,
    platforms: tuple[str, ...] = ("dingtalk", "feishu"),
    apps: bool = False,
    events: bool = False,
    direct: tuple[str, ...] = DIRECT,
    **settings: Any,
) -> World:
    """``apps``: DingTalk's and Feishu's app robots run too (direct messages, Feishu's
    events); ``events``: Feishu's events without its app; ``direct``: the user ids with a
    personal robot of their own."""
    clock = VirtualClock(START)
    config = load(write_config(folder, direct))
    dt_secret, fs_secret = SECRETS["DT_SECRET"], SECRETS["FS_SECRET"]
    dingtalk_fake = await DingTalkRobots(
        {f"dt-{c[1:]}-token": dt_secret for c in CHANNELS}
        | {f"dt-{u}-token": dt_secret for u in direct if u.startswith("staff-")},
        now=clock.now,
    ).start()
    dingtalk_api = await DingTalkApi(
        DINGTALK_APP_KEY,
        APP_SECRET,
        DINGTALK_ROBOT_CODE,
        users={"staff-alice", "staff-bob", "staff-carol"},
        now=clock.now,
    ).start()
    feishu_api = FeishuOpenApi(
        FEISHU_APP_ID,
        FEISHU_APP_SECRET,
        users={"ou_alice", "ou_bob", "ou_carol"},
        chats={"oc_releases", "oc_ops", "oc_p2p_alice"},
        now=clock.now,
    )
    feishu_fake = await FeishuBots(
        {f"fs-{c[1:]}-hook": fs_secret for c in CHANNELS}
        | {f"fs-{u}-hook": fs_secret for u in direct if u.startswith("ou_")},
        now=clock.now,
        open_api=feishu_api,
    ).start()
    signer = LinkSigner(LINK_SECRET, public_url=PUBLIC_URL)
    built: dict[str, Adapter] = {}
    for platform in platforms:
        http = HttpClient()  # the adapter closes it, for its robots and its app alike
        if platform == "dingtalk":
            built[platform] = DingTalkAdapter(
                robots=robots(config.robots.dingtalk, platform="dingtalk", environ=SECRETS),
                app_secret=APP_SECRET,
                api_url=dingtalk_fake.base_url,
                http=http,
                clock=clock,
                signer=signer,
                directory=config.directory,
                app=DingTalkApp(
                    app_key=DINGTALK_APP_KEY,
                    app_secret=APP_SECRET,
                    robot_code=DINGTALK_ROBOT_CODE,
                    api_url=dingtalk_api.base_url,
                    http=http,
                    clock=clock,
                )
                if apps
                else None,
            )
        else:
            built[platform] = FeishuAdapter(
                robots=robots(config.robots.feishu, platform="feishu", environ=SECRETS),
                api_url=feishu_fake.base_url,
                http=http,
                clock=clock,
                signer=signer,
                directory=config.directory,
                app=FeishuApp(
                    app_id=FEISHU_APP_ID,
                    app_secret=FEISHU_APP_SECRET,
                    api_url=feishu_fake.base_url,
                    http=http,
                    clock=clock,
                )
                if apps
                else None,
                verification_token=FEISHU_TOKEN if apps or events else None,
            )
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    app = Application(
        settings=Settings(
            database_url=database_url,
            public_url=PUBLIC_URL,
            action_link_secret=LINK_SECRET,  # type: ignore[arg-type]
            dingtalk_app_secret=APP_SECRET,  # type: ignore[arg-type]
            **settings,
        ),
        config=config,
        engine=engine,
        clock=clock,
        adapters=built,
        seed=0,
    )
    await app.start()
    runner, base_url = await serve(make_web_app(app))
    return World(
        app=app,
        clock=clock,
        dingtalk_robots=dingtalk_fake,
        feishu_bots=feishu_fake,
        dingtalk_api=dingtalk_api,
        feishu_api=feishu_api,
        base_url=base_url,
        client=aiohttp.ClientSession(),
        runners=[runner],
        signer=signer,
    )
