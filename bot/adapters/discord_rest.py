"""Discord's REST API over aiohttp, within its rate limits: each answer's
``X-RateLimit-Bucket`` / ``-Remaining`` / ``-Reset-After`` headers are kept per bucket and
top-level resource (a channel, a webhook), and a call whose bucket is spent waits (a moment
on the wall clock) or goes back to the outbox with the time to retry. A 429 says how long
(``retry_after``), and whether the whole bot is held (``global``)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.adapters.base import Host
from bot.adapters.robots import remember_hold, wait_out_hold
from bot.clock import Clock
from bot.http_client import HttpClient
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t

log = logging.getLogger("shipwatch.adapters.discord")
TIMEOUT = aiohttp.ClientTimeout(total=10)
SHORT_WAIT = 1.0  # on the wall clock a call this close to its bucket's reset waits for it
GLOBAL = "discord:global"  # the hold every process keeps when Discord says the bot is held
# Discord's JSON error codes that say what to fix.
HINTS = {
    10003: "the channel does not exist or the bot cannot see it",
    10008: "the message is gone",
    10013: "no such user",
    50001: "the bot has no access to that channel; add it with View Channel",
    50007: "the person does not take direct messages from the bot (no shared server, or "
    "they closed them)",
    50013: "the bot lacks a permission there (Send Messages, Embed Links, Attach Files, "
    "Create Public Threads)",
}


@dataclass(frozen=True, slots=True)
class Route:
    """One call: its method and path template name the bucket until Discord names it;
    ``major`` is the top-level resource its limit is counted for."""

    method: str
    template: str
    path: str
    major: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(slots=True)
class _Bucket:
    remaining: int
    reset_at: datetime


class Buckets:
    """What Discord said of each bucket, learned from its answers (never hard coded)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._names: dict[str, str] = {}  # route key → Discord's bucket id
        self._state: dict[str, _Bucket] = {}  # bucket id + major → its count
        self._global_until: datetime | None = None

    def _id(self, route: Route) -> str:
        return f"{self._names.get(route.key, route.key)}:{route.major}"

    def wait(self, route: Route) -> float:
        """Seconds until ``route`` may be called (0: now)."""
        now = self._clock.now()
        waits = [0.0]
        if self._global_until is not None and self._global_until > now:
            waits.append((self._global_until - now).total_seconds())
        bucket = self._state.get(self._id(route))
        if bucket is not None and bucket.remaining <= 0 and bucket.reset_at > now:
            waits.append((bucket.reset_at - now).total_seconds())
        return max(waits)

    def learn(self, route: Route, headers: Any) -> None:
        name = headers.get("X-RateLimit-Bucket")
        if name:
            self._names[route.key] = name
        remaining, after = (
            headers.get("X-RateLimit-Remaining"),
            headers.get("X-RateLimit-Reset-After"),
        )
        if remaining is None or after is None:
            return
        try:
            count, seconds = int(remaining), float(after)
        except ValueError:
            return
        reset_at = self._clock.now() + timedelta(seconds=max(seconds, 0.0))
        self._state[self._id(route)] = _Bucket(count, reset_at)

    def held(self, route: Route, seconds: float, *, whole_bot: bool) -> None:
        until = self._clock.now() + timedelta(seconds=seconds)
        if whole_bot:
            self._global_until = until
        else:
            self._state[self._id(route)] = _Bucket(0, until)


class DiscordRest:
    def __init__(self, *, token: str, api_url: str, http: HttpClient, clock: Clock) -> None:
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._http = http
        self._clock = clock
        self.buckets = Buckets(clock)
        self.host: Host | None = None
        self._locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self._http.close()

    async def call(
        self,
        route: Route,
        body: Any = None,
        *,
        files: dict[str, bytes] | None = None,
        max_wait: float = SHORT_WAIT,
        what: str = "",
    ) -> Any:
        """The JSON answer (None for 204). ``files``: attachments by file name, sent as
        multipart with the body as ``payload_json``. Raises ``Throttled`` with Discord's
        wait, ``AdapterError`` (``permanent`` when retrying cannot help) otherwise."""
        await wait_out_hold(self.host, GLOBAL, robot="the Discord bot")
        await self._turn(route, max_wait)
        status, answer, headers = await self._send(route, body, files)
        self.buckets.learn(route, headers)
        if status == 429:
            await self._held(route, answer, headers)
        if 200 <= status < 300:
            return answer
        _refused(status, answer, what or route.path)

    async def _turn(self, route: Route, max_wait: float) -> None:
        wait = self.buckets.wait(route)
        if wait > 0 and not self._clock.virtual and wait <= max_wait:
            await asyncio.sleep(wait)
            wait = self.buckets.wait(route)
        if wait > 0:
            reason = f"Discord's rate limit for {route.key}; free in {wait:.1f}s"
            raise Throttled(t("delivery.failed", reason=reason), retry_after=max(wait, 0.1))

    async def _held(self, route: Route, answer: Any, headers: Any) -> None:
        data = answer if isinstance(answer, dict) else {}
        try:
            seconds = max(float(data.get("retry_after", headers.get("Retry-After", 1))), 0.1)
        except (TypeError, ValueError):
            seconds = 1.0
        whole_bot = bool(data.get("global")) or headers.get("X-RateLimit-Global") == "true"
        self.buckets.held(route, seconds, whole_bot=whole_bot)
        scope = "every call of the bot" if whole_bot else route.key
        error = Throttled(
            t("delivery.failed", reason=f"Discord holds back {scope} for {seconds:.1f}s"),
            retry_after=seconds,
        )
        if whole_bot:
            await remember_hold(self.host, GLOBAL, error)
        raise error

    async def _send(
        self, route: Route, body: Any, files: dict[str, bytes] | None
    ) -> tuple[int, Any, Any]:
        session = await self._http.session()
        headers = {"Authorization": f"Bot {self._token}"}
        data: Any = None
        if files:
            form = aiohttp.FormData()
            payload = dict(body or {})
            payload["attachments"] = [{"id": i, "filename": name} for i, name in enumerate(files)]
            form.add_field(
                "payload_json",
                json.dumps(payload, ensure_ascii=False),
                content_type="application/json",
            )
            for i, (name, content) in enumerate(files.items()):
                form.add_field(f"files[{i}]", content, filename=name, content_type="image/png")
            data = form
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            async with session.request(
                route.method,
                f"{self._api_url}{route.path}",
                data=data,
                headers=headers,
                timeout=TIMEOUT,
            ) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                return response.status, answer, response.headers
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = f"cannot reach Discord: {type(error).__name__}"
            raise AdapterError(t("delivery.failed", reason=reason)) from None


def _refused(status: int, answer: Any, what: str) -> None:
    data = answer if isinstance(answer, dict) else {}
    code = data.get("code") if isinstance(data.get("code"), int) else None
    message = str(data.get("message", ""))[:200]
    if status >= 500 or status in (408, 502, 503, 504):
        raise AdapterError(t("delivery.failed", reason=f"Discord answered {status}"))
    if status == 401:
        reason = "Discord refused the bot token; check SHIPWATCH_DISCORD_BOT_TOKEN"
        raise AdapterError(t("delivery.failed", reason=reason), permanent=True)
    hint = f"; {HINTS[code]}" if code in HINTS else ""
    reason = f"Discord refused {what} ({status} {code or ''}: {message}){hint}"
    raise AdapterError(t("delivery.failed", reason=reason), permanent=True)


def discord_code(error: AdapterError) -> str:
    """The reason an AdapterError carries, for a log line."""
    return str(error.text.params.get("reason", ""))
