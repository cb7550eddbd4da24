"""A local DingTalk: custom robots that check 加签 the way DingTalk does (and its 20 a
minute, past which a robot is held back ten minutes), session webhooks, both recording
what they are sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's documented signature: HmacSHA256(key=secret, "timestamp\\nsecret"), base64."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


MAX_BODY_BYTES = 20_000  # a robot message's body, as DingTalk documents it
# open.dingtalk.com "custom robot" (自定义机器人发送群消息): each robot sends at most 20
# messages a minute; past that it is throttled for ten minutes. The message over the limit
# is answered 130101 ("exceed 20 times per minute"), those during the ten minutes 410100.
PER_MINUTE = 20
BLOCK = timedelta(minutes=10)


@dataclass
class Received:
    robot: str  # the access token, or "session:<id>"
    body: dict[str, Any]
    at: datetime

    @property
    def text(self) -> str:
        kind = self.body["msgtype"]
        return str(self.body[kind]["text"])

    @property
    def buttons(self) -> list[dict[str, str]]:
        return list(self.body.get("actionCard", {}).get("btns", []))


@dataclass
class DingTalkRobots:
    """Robots by access token → secret (None: no 加签). ``now`` is the server's clock."""

    robots: dict[str, str | None]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)
    throttle_next: int = 0  # answer this many sends with 130101 whatever the rate
    # Robots DingTalk holds back (410100) until a moment, as it does for ten minutes to a
    # robot that sent more than 20 messages in a minute.
    blocked_until: dict[str, datetime] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> DingTalkRobots:
        app = web.Application()
        app.router.add_post("/robot/send", self._send)
        app.router.add_post("/robot/sendBySession", self._session)
        self._runner, self.base_url = await serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def session_url(self, session: str) -> str:
        return f"{self.base_url}/robot/sendBySession?session={session}"

    def to(self, robot: str) -> list[Received]:
        return [r for r in self.received if r.robot == robot]

    async def _send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        if token not in self.robots:
            return self._refuse(token, 300001, "token is not exist")
        secret = self.robots[token]
        if secret is not None:
            stamp, given = request.query.get("timestamp", ""), request.query.get("sign", "")
            if not stamp.isdigit():
                return self._refuse(token, 310000, "sign not match, missing timestamp")
            sent = datetime.fromtimestamp(int(stamp) / 1000, UTC)
            if abs(self.now() - sent) > timedelta(hours=1):
                return self._refuse(token, 310000, "sign not match, timestamp is too old")
            if not hmac.compare_digest(given, sign(secret, int(stamp))):
                return self._refuse(token, 310000, "sign not match")
        raw = await request.read()
        if len(raw) > MAX_BODY_BYTES:
            return self._refuse(token, 460101, "message too long")
        body = json.loads(raw)
        if self.now() < self.blocked_until.get(token, self.now()):
            return self._refuse(token, 410100, "send too fast")
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return self._refuse(token, 130101, "send too fast, exceed 20 times per minute")
        minute_ago = self.now() - timedelta(minutes=1)
        if len([r for r in self.to(token) if r.at > minute_ago]) >= PER_MINUTE:
            self.blocked_until[token] = self.now() + BLOCK
            return self._refuse(token, 130101, "send too fast, exceed 20 times per minute")
        self.received.append(Received(token, body, self.now()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _session(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        self.received.append(Received(f"session:{request.query['session']}", body, self.now()))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _refuse(self, robot: str, code: int, message: str) -> web.Response:
        self.refused.append((robot, code))
        return web.json_response({"errcode": code, "errmsg": message})
