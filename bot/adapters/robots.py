"""What DingTalk and Feishu robots share: their signatures, their send limits, and the
one HTTP call that posts a JSON body to a robot."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.adapters.base import Host
from bot.adapters.inbound import Reply
from bot.clock import Clock
from bot.http_client import HttpClient
from bot.i18n import Translator
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t
from playbooks.people import Directory

# On the wall clock a send this close to its turn waits for it; a longer wait goes back
# to the outbox, which retries at the time given (never a long sleep on the loop).
SHORT_WAIT = timedelta(seconds=1)
TIMEOUT = aiohttp.ClientTimeout(total=10)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64 HMAC-SHA256 of ``timestamp + "\\n" + secret``, keyed with the
    secret (the callback's ``sign`` header is the same with the app secret)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's 签名校验: the key is ``timestamp + "\\n" + secret`` and the message empty,
    the reverse of DingTalk's."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


@dataclass(slots=True)
class SendLimit:
    """A robot's sliding windows (20 a minute; 5 a second and 100 a minute): when may the
    next message go?"""

    windows: tuple[tuple[int, timedelta], ...]
    _sent: deque[datetime] = field(default_factory=deque)

    def wait(self, now: datetime) -> timedelta:
        """How long until one more message fits every window (zero: now)."""
        longest = max(span for _, span in self.windows)
        while self._sent and self._sent[0] <= now - longest:
            self._sent.popleft()
        wait = timedelta(0)
        for limit, span in self.windows:
            recent = [at for at in self._sent if at > now - span]
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + span - now)
        return wait

    def record(self, now: datetime) -> None:
        self._sent.append(now)


async def wait_out_hold(host: Host | None, key: str, *, robot: str) -> None:
    """Hand the message back to the outbox while the platform's own hold on this robot (a
    DingTalk ten-minute block, say) lasts, whichever process was told of it."""
    held = await host.sends_held_for(key) if host is not None else 0.0
    if held > 0:
        reason = f"{robot} is held back by the platform; free in {held:.0f}s"
        raise Throttled(t("delivery.failed", reason=reason), retry_after=held)


async def remember_hold(host: Host | None, key: str, error: Throttled) -> None:
    """Write the platform's "wait" down for every process on the database."""
    if host is not None and error.retry_after is not None:
        reason = str(error.text.params.get("reason", ""))
        await host.hold_sends(key, seconds=error.retry_after, reason=reason)


async def hand_over(
    host: Host | None, platform: str, channel: str, reply: Reply, *, log: logging.Logger
) -> None:
    """A reply the robot may not send now waits in the outbox for its turn."""
    if host is None:
        log.warning("reply not delivered", extra={"channel": channel})
        return
    await host.enqueue_reply(platform, channel, reply.message, locale=reply.tr.locale)
    log.info("reply queued behind the robot's send limit", extra={"channel": channel})


async def take_turn(limit: SendLimit, clock: Clock, *, robot: str) -> None:
    """Wait briefly for the robot's next slot, or hand the message back to the outbox."""
    wait = limit.wait(clock.now())
    if wait > timedelta(0) and not clock.virtual and wait <= SHORT_WAIT:
        await asyncio.sleep(wait.total_seconds())
        wait = limit.wait(clock.now())
    if wait > timedelta(0):
        seconds = max(wait.total_seconds(), 0.1)
        reason = f"{robot} sends at most this many messages; next slot in {seconds:.1f}s"
        raise Throttled(t("delivery.failed", reason=reason), retry_after=seconds)
    limit.record(clock.now())


async def post_json(
    http: HttpClient,
    url: str,
    body: dict[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    what: str = "the robot",
    method: str = "POST",
) -> tuple[int, Any, str]:
    """POST (or ``method``) the body; the status, the JSON answer (or None) and how long the
    platform asks us to wait (``Retry-After``, or Feishu's ``x-ogw-ratelimit-reset``)."""
    session = await http.session()
    # UTF-8 as it is, not \u escapes: Chinese text then costs 3 bytes a character, not 6,
    # and the size the renderers fit to is the size sent.
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    sent_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    try:
        async with session.request(
            method, url, data=payload, headers=sent_headers, timeout=TIMEOUT
        ) as response:
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = None
            given = response.headers
            wait = given.get("Retry-After") or given.get("x-ogw-ratelimit-reset") or ""
            return response.status, answer, wait
    except (aiohttp.ClientError, TimeoutError) as error:
        reason = f"cannot reach {what}: {type(error).__name__}"
        raise AdapterError(t("delivery.failed", reason=reason)) from None


def retry_after(header: str, default: float) -> float:
    try:
        return max(float(header), 0.1)
    except ValueError:
        return default


def platform_ids(
    directory: Directory, platform: str, handles: Sequence[str], *, first: str | None = None
) -> list[str]:
    """The ``platform`` user ids of the people ``handles`` names (``@bob`` or ``bob``),
    ``first`` leading, each once; handles without an identity there are left out."""
    ids = [first] if first else []
    for handle in handles:
        person = directory.get(handle.lstrip("@"))
        user_id = person.identities.get(platform) if person else None
        if user_id and user_id not in ids:
            ids.append(user_id)
    return ids


def translator_of(host: Host | None, locale: str) -> Translator:
    """The running Shipwatch's translator, or a plain UTC one before it has started."""
    return host.translator(locale) if host is not None else Translator(locale, UTC)
