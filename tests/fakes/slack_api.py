"""A local Slack: the Web API methods Shipwatch calls, response URLs, and a Socket Mode
WebSocket. It records every call so tests can read the Block Kit Shipwatch sent."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.loopback import serve

BOT_USER = "UBOT"
PATIENCE = 10.0  # seconds a test waits for a call before failing


def channel_id(channel: str) -> str:
    """Slack answers a post by channel name with the channel's id."""
    if channel[:1] in ("C", "D", "G", "U") and channel.isupper():
        return channel
    return "C0" + channel.upper().replace("-", "")


# Slack's limits as it enforces them: Block Kit's documented ones, and the total of block
# text past which it answers msg_blocks_too_long (about 13,200 characters).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BLOCK_TEXT_TOTAL = 13_200


def block_error(params: dict[str, Any]) -> str | None:
    """Slack's error for blocks it would refuse, or None."""
    lists = []
    for name in ("blocks", "attachments"):
        value = params.get(name)
        if isinstance(value, str):
            value = json.loads(value)
        if name == "blocks" and value:
            lists.append(value)
        if name == "attachments" and value:
            lists.extend(a.get("blocks", []) for a in value)
    total = 0
    for blocks in lists:
        if len(blocks) > MAX_BLOCKS:
            return "invalid_blocks"
        for block in blocks:
            text = (block.get("text") or {}).get("text", "")
            fields = [f.get("text", "") for f in block.get("fields", [])]
            elements = [e.get("text", "") for e in block.get("elements", []) if "type" in e]
            if len(text) > MAX_SECTION_TEXT or len(fields) > MAX_FIELDS:
                return "invalid_blocks"
            if any(len(f) > MAX_FIELD_TEXT for f in fields):
                return "invalid_blocks"
            total += len(text) + sum(map(len, fields))
            total += sum(len(e) for e in elements if isinstance(e, str))
    return "msg_blocks_too_long" if total > MAX_BLOCK_TEXT_TOTAL else None


# chat.postMessage's own limit (docs.slack.dev/reference/methods/chat.postMessage, "Rate
# limits"): about one message a second to a channel, short bursts allowed. Kept here as a
# bucket per channel of BURST messages, refilled one a second; past it, HTTP 429
# "ratelimited" with Retry-After in whole seconds, as Slack answers.
POSTS_PER_SECOND = 1.0
BURST = 3


@dataclass
class ChannelRate:
    """One channel's bucket of posts."""

    tokens: float = BURST
    at: float = 0.0

    def take(self, now: float) -> float:
        """Spend a post if one is left; else the seconds until one is."""
        self.tokens = min(BURST, self.tokens + (now - self.at) * POSTS_PER_SECOND)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / POSTS_PER_SECOND


@dataclass
class Call:
    method: str  # a Web API method, or "respond" for a response URL
    params: dict[str, Any]
    token: str = ""
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0  # when it arrived, on the fake's clock


@dataclass
class Failure:
    status: int = 200
    error: str = "ratelimited"
    retry_after: int | None = None
    channel: str | None = None  # only calls to this channel fail; None: any call


@dataclass
class FakeSlack:
    """``enforce_rates``: chat.postMessage keeps Slack's per-channel rate on ``now`` (seconds;
    a test on a virtual clock passes its own)."""

    calls: list[Call] = field(default_factory=list)
    enforce_rates: bool = False
    now: Callable[[], float] = time.monotonic
    _rates: dict[str, ChannelRate] = field(default_factory=dict)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _socket: web.WebSocketResponse | None = None
    _socket_open: asyncio.Event = field(default_factory=asyncio.Event)
    acks: list[dict[str, Any]] = field(default_factory=list)
    # conversations.members: channel id → its members' user ids (a channel not listed is
    # answered channel_not_found, as Slack answers a bot that cannot see it).
    members: dict[str, list[str]] = field(default_factory=dict)

    async def start(self) -> str:
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/api/{method}", self._api),  # conversations.members is a GET
                web.post("/respond/{id}", self._respond),
                web.post("/upload/{id}", self._upload),
                web.get("/socket", self._websocket),
            ]
        )
        self._runner, self.base_url = await serve(app)
        return f"{self.base_url}/api/"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def response_url(self, name: str = "1") -> str:
        return f"{self.base_url}/respond/{name}"

    def fail(self, method: str, *failures: Failure) -> None:
        self.failures.setdefault(method, []).extend(failures)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1) -> list[Call]:
        """Until ``count`` calls of ``method`` have arrived (bolt answers Slack first and
        works after, so a reply lands a moment after the HTTP response)."""
        async with asyncio.timeout(PATIENCE), self._changed:
            await self._changed.wait_for(lambda: len(self.of(method)) >= count)
        return self.of(method)

    async def _record(self, call: Call) -> None:
        call.at = self.now()
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            params: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            params = {**request.query, **await request.json()}
        else:
            params = {**request.query, **await request.post()}
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        pending = self.failures.get(method, [])
        failure = next((f for f in pending if f.channel in (None, params.get("channel"))), None)
        if failure is not None:
            pending.remove(failure)
            await self._record(Call(f"{method}!failed", params, token))
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        wait = self._rate_wait(method, params)
        if wait > 0:
            await self._record(Call(f"{method}!ratelimited", params, token))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        rejected = block_error(params) if method in ("chat.postMessage", "chat.update") else None
        if rejected is not None:
            await self._record(Call(f"{method}!rejected", params, token))
            return web.json_response({"ok": False, "error": rejected})
        answer = self._answer(method, params)
        await self._record(Call(method, params, token, answer))
        return web.json_response(answer)

    def _rate_wait(self, method: str, params: dict[str, Any]) -> float:
        if not self.enforce_rates or method != "chat.postMessage":
            return 0.0
        channel = channel_id(str(params.get("channel")))
        return self._rates.setdefault(channel, ChannelRate(at=self.now())).take(self.now())

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "B1", "team_id": "T1"}
        if method == "chat.postMessage":
            ts = f"1700000000.{len(self.calls):06d}"
            return {"ok": True, "channel": channel_id(str(params.get("channel"))), "ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": "1700000000.000001"}
        if method == "files.getUploadURLExternal":
            n = len(self.calls)
            return {"ok": True, "upload_url": f"{self.base_url}/upload/F{n}", "file_id": f"F{n}"}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            listed = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": listed}
        if method == "conversations.members":
            return self._members(params)
        if method == "conversations.create":
            # A new channel, its creator (the bot) in it, as Slack makes one.
            room = f"C0ROOM{len(self.of('conversations.create')) + 1}"
            self.members[room] = [BOT_USER]
            return {"ok": True, "channel": {"id": room, "name": params.get("name")}}
        if method == "conversations.invite":
            inside = self.members.setdefault(str(params.get("channel")), [])
            users = str(params.get("users", "")).split(",")
            if all(u in inside for u in users):
                return {"ok": False, "error": "already_in_channel"}
            inside += [u for u in users if u not in inside]
            return {"ok": True, "channel": {"id": params.get("channel")}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http", "ws") + "/socket"}
        return {"ok": True}

    def _members(self, params: dict[str, Any]) -> dict[str, Any]:
        """A page of a channel's members, ``limit`` at a time, with Slack's cursor."""
        everyone = self.members.get(channel_id(str(params.get("channel"))))
        if everyone is None:
            return {"ok": False, "error": "channel_not_found"}
        start = int(params.get("cursor") or 0)
        end = start + int(params.get("limit") or 100)
        cursor = str(end) if end < len(everyone) else ""
        return {
            "ok": True,
            "members": everyone[start:end],
            "response_metadata": {"next_cursor": cursor},
        }

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out: the file's bytes."""
        body = await request.read()
        await self._record(Call("upload", {"file_id": request.match_info["id"], "body": body}))
        return web.Response(text=f"OK - {len(body)}")

    async def _respond(self, request: web.Request) -> web.Response:
        params = await request.json()
        rejected = block_error(params)
        if rejected is not None:
            await self._record(Call("respond!rejected", params))
            return web.Response(status=400, text=rejected)
        await self._record(Call("respond", params))
        return web.Response(text="ok")

    # --- Socket Mode ----------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._socket_open.set()
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                data = json.loads(frame.data)
                if "envelope_id" in data:
                    await self._record(Call("socket.ack", data))
        return socket

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send an envelope down the Socket Mode connection, as Slack does."""
        async with asyncio.timeout(PATIENCE):
            await self._socket_open.wait()
        assert self._socket is not None
        await self._socket.send_json(envelope)
