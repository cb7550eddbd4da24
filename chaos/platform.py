"""The Slack Web API fake the bot talks to, recording when each post arrived; it answers
429 with Retry-After now and then, and can hold a post unanswered while the bot is killed."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.slack_api import Call, FakeSlack, channel_id

SENDS = ("chat.postMessage", "chat.update")
HOLD_AT_MOST = 30.0  # seconds a held post waits for the harness to kill the bot


@dataclass
class Arrival:
    """One post or edit as the platform received it: it happened, whatever the bot heard."""

    method: str
    channel: str  # the channel's id: C0INCIDENTS, or a user id for a direct message
    text: str
    ts: str
    at: float  # wall-clock seconds
    blocks: list[dict[str, Any]]


@dataclass
class ChaosSlack(FakeSlack):
    rng: random.Random = field(default_factory=random.Random)
    rate_limited_share: float = 0.05
    arrivals: list[Arrival] = field(default_factory=list)
    rate_limited: int = 0
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # response_url id: body
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _hold_armed: bool = False
    _held: asyncio.Event = field(default_factory=asyncio.Event)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def hold_next(self) -> None:
        """The next post is recorded, then left unanswered until ``release()``."""
        self._hold_armed, self._held, self._release = True, asyncio.Event(), asyncio.Event()

    async def wait_held(self, *, within: float) -> bool:
        try:
            async with asyncio.timeout(within):
                await self._held.wait()
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        self._hold_armed = False
        self._release.set()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method not in SENDS:
            return await super()._api(request)
        if request.content_type == "application/json":
            params = {**request.query, **await request.json()}
        else:
            params = {**request.query, **await request.post()}
        if self.rng.random() < self.rate_limited_share:
            self.rate_limited += 1
            await self._record(Call(f"{method}!failed", params))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        ts = str(params.get("ts") or f"1700000000.{next(self._ts):06d}")
        channel = channel_id(str(params.get("channel")))
        answer = {"ok": True, "channel": channel, "ts": ts}
        self.arrivals.append(
            Arrival(
                method,
                channel,
                str(params.get("text", "")),
                ts,
                time.time(),
                _blocks(params),
            )
        )
        await self._record(Call(method, params, answer=answer))
        if self._hold_armed and method == "chat.postMessage":
            self._hold_armed = False
            self._held.set()
            # Slack has the message now; the bot never hears so, as it is killed meanwhile.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HOLD_AT_MOST):
                    await self._release.wait()
        return web.json_response(answer)

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.replies[request.match_info["id"]] = body
        await self._record(Call("respond", body))
        return web.Response(text="ok")


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    """A post's Block Kit, whether bare or inside a coloured attachment."""
    if params.get("attachments"):
        return list(params["attachments"][0].get("blocks") or [])
    return list(params.get("blocks") or [])
