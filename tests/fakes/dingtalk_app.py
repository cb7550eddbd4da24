"""A local api.dingtalk.com: the app's access tokens (issued, expiring, refused when wrong)
and the app robot's one-to-one messages (checked and recorded, throttled on cue)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from tests.fakes.loopback import serve

TEMPLATES = {
    "sampleMarkdown": ("title", "text"),
    "sampleActionCard": ("title", "text", "singleTitle", "singleURL"),
    **{
        f"sampleActionCard{n}": (
            "title",
            "text",
            *(f"action{part}{i}" for i in range(1, n + 1) for part in ("Title", "URL")),
        )
        for n in range(2, 6)
    },
}


@dataclass
class OneToOne:
    user: str
    msg_key: str
    param: dict[str, str]
    at: datetime

    @property
    def text(self) -> str:
        return self.param["text"]

    @property
    def links(self) -> list[str]:
        return [v for k, v in self.param.items() if k == "singleURL" or k.startswith("actionURL")]


@dataclass
class DingTalkApi:
    app_key: str
    app_secret: str
    robot_code: str
    users: set[str]  # staff ids of the organisation the app may reach
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    token_lifetime: timedelta = timedelta(hours=2)
    tokens: dict[str, datetime] = field(default_factory=dict)  # token → when it expires
    token_requests: int = 0
    sent: list[OneToOne] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the codes answered, in order
    throttle_next: int = 0
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> DingTalkApi:
        app = web.Application()
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._batch_send)
        self._runner, self.base_url = await serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def to(self, user: str) -> list[OneToOne]:
        return [m for m in self.sent if m.user == user]

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        body = await request.json()
        if body.get("appKey") != self.app_key or body.get("appSecret") != self.app_secret:
            return self._refuse(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = secrets.token_hex(16)
        self.tokens[token] = self.now() + self.token_lifetime
        seconds = int(self.token_lifetime.total_seconds())
        return web.json_response({"accessToken": token, "expireIn": seconds})

    async def _batch_send(self, request: web.Request) -> web.Response:
        token = request.headers.get("x-acs-dingtalk-access-token", "")
        if token not in self.tokens or self.tokens[token] <= self.now():
            return self._refuse(400, "InvalidAuthentication", "不合法的access_token")
        body = await request.json()
        if body.get("robotCode") != self.robot_code:
            return self._refuse(400, "resource.not.found", "robot 不存在")
        users, msg_key, raw = body.get("userIds"), body.get("msgKey"), body.get("msgParam")
        if not isinstance(users, list) or not 1 <= len(users) <= 20:
            return self._refuse(400, "invalidParameter.userIds", "userIds 不合法")
        if msg_key not in TEMPLATES or not isinstance(raw, str):
            return self._refuse(400, "invalidParameter.msgKey", "msgKey 不合法")
        param = json.loads(raw)
        if sorted(param) != sorted(TEMPLATES[msg_key]):
            return self._refuse(400, "invalidParameter.msgParam", f"msgParam 不合法: {raw}")
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return self._refuse(403, "Forbidden.AccessDenied.QpsLimitForApi", "请求过于频繁")
        invalid = [u for u in users if u not in self.users]
        for user in users:
            if user not in invalid:
                self.sent.append(OneToOne(user, msg_key, param, self.now()))
        return web.json_response(
            {
                "processQueryKey": secrets.token_hex(8),
                "invalidStaffIdList": invalid,
                "flowControlledStaffIdList": [],
            }
        )

    def _refuse(self, status: int, code: str, message: str) -> web.Response:
        self.refused.append(code)
        return web.json_response(
            {"code": code, "message": message, "requestid": "req-1"}, status=status
        )
