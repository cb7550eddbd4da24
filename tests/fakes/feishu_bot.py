"""A local Feishu: custom bots that check 签名校验 the way Feishu does (and 5 a second, 100
a minute), recording the cards they are sent."""

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

from tests.fakes.feishu_app import FeishuOpenApi, card_buttons, card_text
from tests.fakes.loopback import serve


def sign(secret: str, timestamp_s: int) -> str:
    """Feishu's documented signature: HmacSHA256 keyed with "timestamp\\nsecret" over an
    empty message, base64."""
    string_to_sign = f"{timestamp_s}\n{secret}"
    mac = hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


MAX_BODY_BYTES = 20 * 1024  # a custom bot's request body, as Feishu documents it


@dataclass
class Card:
    hook: str
    body: dict[str, Any]
    at: datetime

    @property
    def title(self) -> str:
        return str(self.body["card"]["header"]["title"]["content"])

    @property
    def template(self) -> str:
        return str(self.body["card"]["header"]["template"])

    @property
    def text(self) -> str:
        return card_text(self.body["card"])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return card_buttons(self.body["card"])


@dataclass
class FeishuBots:
    """Bots by hook id → secret (None: no 签名校验)."""

    hooks: dict[str, str | None]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    received: list[Card] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)
    throttle_next: int = 0
    open_api: FeishuOpenApi | None = None  # the app's endpoints, on the same host
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FeishuBots:
        app = web.Application()
        app.router.add_post("/open-apis/bot/v2/hook/{hook}", self._hook)
        if self.open_api is not None:
            app.router.add_routes(self.open_api.routes())
        self._runner, self.base_url = await serve(app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def to(self, hook: str) -> list[Card]:
        return [c for c in self.received if c.hook == hook]

    async def _hook(self, request: web.Request) -> web.Response:
        hook = request.match_info["hook"]
        if hook not in self.hooks:
            return self._refuse(hook, 19001, "param invalid: incoming webhook access token invalid")
        raw = await request.read()
        if len(raw) > MAX_BODY_BYTES:
            return self._refuse(hook, 19036, "request body too large")
        body = json.loads(raw)
        secret = self.hooks[hook]
        if secret is not None:
            stamp = str(body.get("timestamp", ""))
            fresh = stamp.isdigit() and abs(
                self.now() - datetime.fromtimestamp(int(stamp), UTC)
            ) <= timedelta(hours=1)
            if not fresh or not hmac.compare_digest(
                str(body.get("sign")), sign(secret, int(stamp))
            ):
                return self._refuse(
                    hook,
                    19021,
                    "sign match fail or timestamp is not within one hour from current time",
                )
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return self._refuse(hook, 11232, "frequency limited")
        now = self.now()
        mine = self.to(hook)
        if (
            len([c for c in mine if c.at > now - timedelta(seconds=1)]) >= 5
            or len([c for c in mine if c.at > now - timedelta(minutes=1)]) >= 100
        ):
            return self._refuse(hook, 9499, "Too Many Request")
        self.received.append(Card(hook, body, now))
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    def _refuse(self, hook: str, code: int, message: str) -> web.Response:
        self.refused.append((hook, code))
        return web.json_response({"code": code, "msg": message, "data": {}})
