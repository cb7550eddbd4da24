"""A local Discord REST API (v10): the calls Shipwatch makes, recorded, with Discord's rate
limit headers per bucket and channel, and 429s (``retry_after``, ``global``) on demand or
when a bucket is spent. Also signs interactions as Discord does, with a real Ed25519 key."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes.loopback import serve

TOKEN = "discord-bot-token-for-tests"
APPLICATION_ID = "1100000000000000001"
PATIENCE = 10.0


class Signer:
    """The application's key pair: Discord holds the private half, Shipwatch the public."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_hex = raw.hex()

    def headers(self, body: bytes, stamp: int) -> dict[str, str]:
        signature = self._key.sign(str(stamp).encode() + body)
        return {
            "X-Signature-Ed25519": signature.hex(),
            "X-Signature-Timestamp": str(stamp),
            "Content-Type": "application/json",
        }


@dataclass
class Call:
    method: str
    route: str  # the path with ids, as called (after /api/v10)
    body: Any  # the JSON, or payload_json of a multipart call
    files: dict[str, bytes] = field(default_factory=dict)
    at: datetime | None = None

    def text(self) -> str:
        """Everything a person reads in the message: content, embed text and fields."""
        if not isinstance(self.body, dict):
            return ""
        parts = [str(self.body.get("content", ""))]
        for embed in self.body.get("embeds") or []:
            parts.append(str(embed.get("description", "")))
            parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        return "\n".join(parts).replace("\\", "")

    def buttons(self) -> list[dict[str, Any]]:
        if not isinstance(self.body, dict):
            return []
        return [b for row in self.body.get("components") or [] for b in row["components"]]


@dataclass
class Failure:
    status: int = 429
    retry_after: float = 1.0
    whole_bot: bool = False
    code: int | None = None
    message: str = "You are being rate limited."


@dataclass
class FakeDiscord:
    """``now``: the clock buckets reset on (a test's virtual clock). Every message route
    has a bucket of ``per_channel`` calls per ``window`` for each channel."""

    now: Callable[[], datetime]
    per_channel: int = 5
    window: float = 5.0
    calls: list[Call] = field(default_factory=list)
    refused: list[Call] = field(default_factory=list)
    failures: list[tuple[str, Failure]] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None
    _buckets: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    _ids: int = 1_200_000_000_000_000_000
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner, self.base_url = await serve(app)
        return f"{self.base_url}/api/v10"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, pattern: str, failure: Failure) -> None:
        """The next call whose ``METHOD route`` matches ``pattern`` gets ``failure``."""
        self.failures.append((pattern, failure))

    def of(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.route)]

    def messages(self, channel: str) -> list[Call]:
        return self.of("POST", f"/channels/{channel}/messages")

    async def wait_for(self, method: str, pattern: str, count: int = 1) -> list[Call]:
        async with asyncio.timeout(PATIENCE), self._changed:
            await self._changed.wait_for(lambda: len(self.of(method, pattern)) >= count)
        return self.of(method, pattern)

    def dm_channel(self, user_id: str) -> str:
        return f"9{user_id}"

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = "/" + request.match_info["tail"]
        call = Call(request.method, route, None, at=self.now())
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    call.body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    name = part.filename or ""  # type: ignore[union-attr]
                    call.files[name] = bytes(await part.read())  # type: ignore[union-attr]
        elif request.can_read_body:
            call.body = await request.json()
        webhook = route.startswith("/webhooks/")
        if not webhook and request.headers.get("Authorization") != f"Bot {TOKEN}":
            return self._refuse(call, 401, {"message": "401: Unauthorized", "code": 0})
        key = f"{request.method} {route}"
        for pattern, failure in self.failures:
            if re.fullmatch(pattern, key):
                self.failures.remove((pattern, failure))
                return self._fail(call, failure)
        bucket, headers = self._take(request.method, route)
        if bucket is not None:
            return self._fail(call, Failure(retry_after=bucket), headers=headers)
        answer = self._answer(request.method, route, call)
        if isinstance(answer, web.Response):
            return answer
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if answer is None:
            return web.Response(status=204, headers=headers)
        return web.json_response(answer, headers=headers)

    def _take(self, method: str, route: str) -> tuple[float | None, dict[str, str]]:
        """The channel's message bucket: a call spends one; none left answers 429."""
        match = re.fullmatch(r"/channels/(\d+)/messages(/\d+)?", route)
        if match is None:
            return None, {}
        bucket = "messages-" + ("edit" if method == "PATCH" else "create")
        key = f"{bucket}:{match.group(1)}"
        now = self.now()
        left, reset = self._buckets.get(
            key, (self.per_channel, now + timedelta(seconds=self.window))
        )
        if reset <= now:
            left, reset = self.per_channel, now + timedelta(seconds=self.window)
        after = (reset - now).total_seconds()
        headers = {
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Limit": str(self.per_channel),
            "X-RateLimit-Reset-After": f"{after:.3f}",
        }
        if left <= 0:
            headers["X-RateLimit-Remaining"] = "0"
            return after, headers
        self._buckets[key] = (left - 1, reset)
        headers["X-RateLimit-Remaining"] = str(left - 1)
        return None, headers

    def _answer(self, method: str, route: str, call: Call) -> Any:
        body = call.body if isinstance(call.body, dict) else {}
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", route)):
            return {"id": self._next_id(), "channel_id": m.group(1), **body}
        if method == "PATCH" and (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", route)):
            return {"id": m.group(2), "channel_id": m.group(1), **body}
        if method == "POST" and route == "/users/@me/channels":
            return {"id": self.dm_channel(str(body.get("recipient_id"))), "type": 1}
        if method == "POST" and re.fullmatch(r"/channels/\d+/threads", route):
            return {"id": self._next_id(), "type": 11, "name": body.get("name")}
        if re.fullmatch(r"/webhooks/\d+/[^/]+(/messages/@original)?", route):
            return None if method == "DELETE" else {"id": self._next_id(), **body}
        if method == "PUT" and re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", route):
            listed = call.body if isinstance(call.body, list) else []
            return [{"id": self._next_id(), **c} for c in listed]
        if method in ("PUT", "DELETE"):
            return None
        if method == "PATCH" and re.fullmatch(r"/channels/\d+", route):
            return {"id": route.rsplit("/", 1)[1], **body}
        return self._refuse(call, 404, {"message": "404: Not Found", "code": 0})

    def _fail(
        self, call: Call, failure: Failure, *, headers: dict[str, str] | None = None
    ) -> web.Response:
        if failure.status == 429:
            body: dict[str, Any] = {
                "message": failure.message,
                "retry_after": failure.retry_after,
                "global": failure.whole_bot,
            }
            sent = dict(headers or {})
            sent["Retry-After"] = str(int(failure.retry_after) or 1)
            if failure.whole_bot:
                sent["X-RateLimit-Global"] = "true"
                sent["X-RateLimit-Scope"] = "global"
            self.refused.append(call)
            return web.json_response(body, status=429, headers=sent)
        return self._refuse(
            call, failure.status, {"message": failure.message, "code": failure.code or 0}
        )

    def _refuse(self, call: Call, status: int, body: dict[str, Any]) -> web.Response:
        self.refused.append(call)
        return web.json_response(body, status=status)
