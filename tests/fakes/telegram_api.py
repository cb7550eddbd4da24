"""A local Telegram Bot API: the methods python-telegram-bot calls, at ``/bot<token>/<method>``,
recording every call; updates to hand out by getUpdates; failures on cue (429, 403, 400)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve

TOKEN = "123456:TEST-token-for-the-fake-api"
BOT = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Shipwatch",
    "username": "shipwatch_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_FIELDS = {"reply_markup", "reply_parameters", "link_preview_options", "allowed_updates"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit", "message_thread_id"}
DATE = 1795400000
# The Bot API's send limits (core.telegram.org/bots/faq, "My bot is hitting limits"): one
# message a second in a chat, twenty a minute in a group, about thirty a second in all.
# Past them it answers 429 "Too Many Requests: retry after N" with parameters.retry_after.
SENDS = frozenset({"sendMessage", "sendPhoto", "editMessageText"})
CHAT_INTERVAL = 1.0
GROUP_WINDOW, GROUP_MAX = 60.0, 20
GLOBAL_WINDOW, GLOBAL_MAX = 1.0, 30


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def callback_data(self) -> list[str]:
        return [button["callback_data"] for row in self.keyboard for button in row]


@dataclass
class Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None
    chat_id: int | None = None  # only calls for this chat fail (None: any)
    after: int = 0  # this many matching calls succeed first


@dataclass
class FakeTelegram:
    """Start with ``await FakeTelegram.start()``; ``api_url`` goes in SHIPWATCH_TELEGRAM_API_URL."""

    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    api_url: str = ""
    # ``enforce_rates``: sends keep Telegram's limits on ``now`` (seconds; a test on a
    # virtual clock passes its own); what was refused is in ``limited``.
    enforce_rates: bool = False
    now: Callable[[], float] = time.monotonic
    limited: list[Call] = field(default_factory=list)
    _delivered: deque[tuple[float, int]] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _closing: bool = False
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _failures: dict[str, deque[Failure]] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # getChatMember: chat id → the user ids in it (a chat not listed: "chat not found").
    members: dict[int, set[int]] = field(default_factory=dict)
    # Supergroups with topics enabled (createForumTopic elsewhere: "the chat is not a forum").
    forums: set[int] = field(default_factory=set)
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)  # thread id → topic

    @classmethod
    async def start(cls, token: str = TOKEN) -> FakeTelegram:
        fake = cls(token=token)
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", fake._handle)
        fake._runner, base = await serve(app)
        fake.api_url = f"{base}/bot"
        return fake

    async def stop(self) -> None:
        async with self._changed:
            self._closing = True  # a long poll in progress answers now
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests do -----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        chat_id: int | None = None,
        after: int = 0,
    ) -> None:
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        failure = Failure(status, description, parameters, chat_id, after)
        self._failures.setdefault(method, deque()).append(failure)

    async def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update = {"update_id": next(self._ids), **update}
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return int(update["update_id"])

    def next_update_id(self) -> int:
        return next(self._ids)

    def sent(self, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1) -> list[Call]:
        """Until ``count`` calls of ``method`` have arrived (an event wait, not a timer;
        a test that waits in vain fails after 10 s)."""
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: len(self.sent(method)) >= count)
        return self.sent(method)

    # --- the Bot API -------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        form = {
            k: v.file.read() if isinstance(v, web.FileField) else v
            for k, v in (await request.post()).items()
        }
        params = _decode(form)
        wait = self._rate_wait(method, params)
        if wait > 0:
            self.limited.append(Call(method, params, self.now()))
            seconds = max(1, math.ceil(wait))
            return _error(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        async with self._changed:
            self.calls.append(Call(method, params, self.now()))
            self._changed.notify_all()
        queued = self._failures.get(method)
        if queued and queued[0].chat_id in (None, params.get("chat_id")):
            if queued[0].after > 0:
                queued[0].after -= 1
            else:
                failure = queued.popleft()
                return _error(failure.status, failure.description, failure.parameters)
        answer = getattr(self, f"_{method}", None)
        if answer is None:
            return _error(404, "Not Found: method not found")
        try:
            result = await answer(params)
        except _Refused as refused:
            return _error(refused.status, refused.description)
        return web.json_response({"ok": True, "result": result})

    def _rate_wait(self, method: str, params: dict[str, Any]) -> float:
        """Seconds until this send would be within every limit (zero: it is now)."""
        if not self.enforce_rates or method not in SENDS:
            return 0.0
        now, chat = self.now(), int(params.get("chat_id") or 0)
        while self._delivered and self._delivered[0][0] <= now - GROUP_WINDOW:
            self._delivered.popleft()
        mine = [at for at, to in self._delivered if to == chat]
        waits = [0.0]
        if mine:
            waits.append(mine[-1] + CHAT_INTERVAL - now)
        if chat < 0 and len(mine) >= GROUP_MAX:
            waits.append(mine[-GROUP_MAX] + GROUP_WINDOW - now)
        second = [at for at, _ in self._delivered if at > now - GLOBAL_WINDOW]
        if len(second) >= GLOBAL_MAX:
            waits.append(second[-GLOBAL_MAX] + GLOBAL_WINDOW - now)
        wait = max(waits)
        if wait > 1e-6:  # a sender that kept the limit to the microsecond kept it
            return wait
        self._delivered.append((now, chat))
        return 0.0

    async def _getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    async def _deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _setWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        if chat_id not in self.members:
            raise _Refused(400, "Bad Request: chat not found")
        status = "member" if user_id in self.members[chat_id] else "left"
        return {"status": status, "user": user(user_id)}

    async def _sendMessage(self, params: dict[str, Any]) -> Any:
        return self._message(params, next(self._message_ids))

    async def _sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._message(params, next(self._message_ids))

    async def _editMessageText(self, params: dict[str, Any]) -> Any:
        return self._message(params, int(params["message_id"]))

    async def _createForumTopic(self, params: dict[str, Any]) -> Any:
        if int(params["chat_id"]) not in self.forums:
            raise _Refused(400, "Bad Request: the chat is not a forum")
        thread = next(self._message_ids)  # a topic's id is the id of its creation message
        self.topics[thread] = {"name": params["name"], "closed": False}
        return {"message_thread_id": thread, "name": params["name"], "icon_color": 7322096}

    async def _closeForumTopic(self, params: dict[str, Any]) -> Any:
        topic = self.topics.get(int(params["message_thread_id"]))
        if topic is None:
            raise _Refused(400, "Bad Request: TOPIC_ID_INVALID")
        topic["closed"] = True
        return True

    async def _pinChatMessage(self, params: dict[str, Any]) -> Any:
        return True

    async def _getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset]

        async with self._changed:
            # Long polling, as Telegram does: answer when there is something, or at timeout.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(pending()) or self._closing), timeout
                )
            # Confirmed updates (below the offset) are forgotten, as Telegram forgets them.
            self._updates = pending()
            return list(self._updates)

    def _message(self, params: dict[str, Any], message_id: int) -> dict[str, Any]:
        chat = int(params["chat_id"])
        return {
            "message_id": message_id,
            "date": DATE,
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
            "from": BOT,
            "text": params.get("text", ""),
            **(
                {"message_thread_id": params["message_thread_id"], "is_topic_message": True}
                if params.get("message_thread_id")
                else {}
            ),
        }


class _Refused(Exception):
    """A method's answer that is an error, as Telegram gives it."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _decode(form: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in _JSON_FIELDS:
            params[key] = json.loads(value)
        elif key in _INT_FIELDS and str(value).lstrip("-").isdigit():
            params[key] = int(value)
        else:
            params[key] = value
    return params


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


# --- updates as Telegram sends them ----------------------------------------------------------


def user(user_id: int, name: str = "Bob") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "en"}


def chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Bob"}
    return {"id": chat_id, "type": "supergroup", "title": "ops"}


def message_update(
    text: str, *, user_id: int, chat_id: int, message_id: int = 1, thread: int | None = None
) -> dict[str, Any]:
    """A text message (in forum topic ``thread``, if given); a leading ``/command`` is
    marked as Telegram marks it."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": DATE,
        "chat": chat(chat_id),
        "from": user(user_id),
        "text": text,
    }
    if thread is not None:
        message |= {"message_thread_id": thread, "is_topic_message": True}
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"message": message}


def callback_update(
    data: str, *, user_id: int, chat_id: int, query_id: str = "q1", message_id: int = 1
) -> dict[str, Any]:
    """A press of an inline keyboard button under one of the bot's messages."""
    return {
        "callback_query": {
            "id": query_id,
            "from": user(user_id),
            "chat_instance": "instance-1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": DATE,
                "chat": chat(chat_id),
                "from": BOT,
                "text": "…",
            },
        }
    }
