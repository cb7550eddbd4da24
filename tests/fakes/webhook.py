"""A webhook receiver on loopback that does what ``bot.traffic.webhook`` asks receivers to do.

It verifies each request exactly as that module's docstring tells receivers to (raw body,
a 5-minute timestamp window, a constant-time comparison of the signature), answers 401 when
verification fails, de-duplicates on the idempotency key (a repeated key answers 200 without
applying again) and records what it applied. Tests can make it answer the next N requests
with a chosen status, or hold every answer until an ``asyncio.Event`` is set.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve

MAX_AGE_SECONDS = 300


def verify(secret: bytes, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
    """The receiver's check, step for step as documented in ``bot.traffic.webhook``."""
    timestamp = headers.get("X-Shipwatch-Timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    signed = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
    received = headers.get("X-Shipwatch-Signature", "")
    return hmac.compare_digest(expected.encode(), received.encode(errors="surrogateescape"))


@dataclass(frozen=True, slots=True)
class Received:
    """One request as it arrived, and what the receiver answered."""

    headers: dict[str, str]
    body: bytes
    status: int


@dataclass(frozen=True, slots=True)
class Scripted:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class FakeWebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.url = ""
        self.received: list[Received] = []
        self.applied: list[dict[str, Any]] = []  # bodies applied, in order, each key once
        self.hold: asyncio.Event | None = None  # when set, every answer waits for this event
        self._seen: set[str] = set()
        self._script: list[Scripted] = []
        self._handled = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    # --- what a test can ask ----------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        body: str = "",
        retry_after: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` (before any verification)."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        self._script.extend(Scripted(status, body, extra) for _ in range(count))

    async def wait_handled(self, count: int) -> None:
        """Return once ``count`` requests have been answered (not merely received)."""
        async with self._handled:
            await self._handled.wait_for(lambda: len(self.received) >= count)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, path: str = "/hooks/traffic") -> str:
        app = web.Application()
        app.router.add_post(path, self._handle)
        self._runner, base = await serve(app)
        self.url = f"{base}{path}"
        return self.url

    async def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the receiver -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.hold is not None:
            await self.hold.wait()
        response = self._answer(request, body)
        async with self._handled:
            self.received.append(Received(dict(request.headers), body, response.status))
            self._handled.notify_all()
        return response

    def _answer(self, request: web.Request, body: bytes) -> web.Response:
        if self._script:
            scripted = self._script.pop(0)
            return web.Response(
                status=scripted.status, text=scripted.body, headers=scripted.headers
            )
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        if not verify(self.secret, request.headers, body, now=time.time()):
            return web.json_response({"error": "bad signature or stale timestamp"}, status=401)
        payload = json.loads(body)
        key = payload.get("idempotency_key")
        if not key or request.headers.get("Idempotency-Key") != key:
            return web.json_response({"error": "Idempotency-Key must match the body"}, status=400)
        if key in self._seen:
            return web.json_response({"status": "duplicate"})
        self._seen.add(key)
        self.applied.append(payload)
        return web.json_response({"status": "applied"})
