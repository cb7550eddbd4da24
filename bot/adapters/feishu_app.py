"""Feishu's app bot: cards to a person (``open_id``) or a chat (``chat_id``) through
``/open-apis/im/v1/messages``, with the app's tenant_access_token."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiohttp

from bot.adapters.app_tokens import AppToken
from bot.adapters.robots import TIMEOUT, SendLimit, post_json, retry_after, take_turn
from bot.clock import Clock
from bot.http_client import HttpClient
from playbooks.errors import AdapterError, Throttled
from playbooks.messages import t

# The token was revoked or has run out (Feishu's "Invalid access token" family).
TOKEN_REFUSED = frozenset({99991661, 99991663, 99991668, 99991677})
THROTTLED = frozenset({99991400, 230020})
THROTTLED_WAIT = 1.0
MEMBER_PAGES = 50  # of 100 members each: past that, a chat is not listed
HINTS = {
    99991672: "grant the app the permission to send messages as the bot (im:message:send_as_bot)",
    230002: "add the app's bot to that chat",
    230013: "the person is outside the app's availability range; widen it in the console",
    230006: "turn on the app's bot ability in the developer console",
}


class FeishuApp:
    def __init__(
        self, *, app_id: str, app_secret: str, api_url: str, http: HttpClient, clock: Clock
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._api_url = api_url.rstrip("/")
        self._http = http
        self._clock = clock
        self._limits: dict[str, SendLimit] = {}
        self.token = AppToken(self._fetch_token, clock=clock)

    async def send(self, receive_id: str, card: dict[str, Any], *, id_type: str) -> str | None:
        """Send an interactive card to ``receive_id`` (an ``open_id`` or a ``chat_id``); the
        message id Feishu gives it."""
        # Feishu takes at most 5 messages a second to one person or one chat.
        limit = self._limits.setdefault(receive_id, SendLimit(((5, timedelta(seconds=1)),)))
        await take_turn(limit, self._clock, robot=f"the Feishu app's bot (to {receive_id})")
        url = f"{self._api_url}/open-apis/im/v1/messages?receive_id_type={id_type}"
        body = {
            "receive_id": receive_id,
            "msg_type": "interactive",
            "content": json.dumps(card, ensure_ascii=False),
        }
        token = await self.token.get()
        status, answer, after = await self._post(url, body, token)
        if isinstance(answer, dict) and answer.get("code") in TOKEN_REFUSED:
            self.token.forget(token)  # expired or revoked early: one new token, one retry
            status, answer, after = await self._post(url, body, await self.token.get())
        _check(status, answer, after, to=receive_id)
        data = answer.get("data") if isinstance(answer, dict) else None
        message_id = data.get("message_id") if isinstance(data, dict) else None
        return str(message_id) if message_id else None

    async def update(self, message_id: str, card: dict[str, Any]) -> str | None:
        """Replace the card of a message the app sent (PATCH im/v1/messages/:message_id);
        None when Feishu will not edit it any more (too old, withdrawn, not a shared card):
        then the revision is posted anew, or not at all if it says nothing new."""
        url = f"{self._api_url}/open-apis/im/v1/messages/{message_id}"
        body = {"content": json.dumps(card, ensure_ascii=False)}
        token = await self.token.get()
        status, answer, after = await self._post(url, body, token, method="PATCH")
        if isinstance(answer, dict) and answer.get("code") in TOKEN_REFUSED:
            self.token.forget(token)
            status, answer, after = await self._post(
                url, body, await self.token.get(), method="PATCH"
            )
        try:
            _check(status, answer, after, to=message_id)
        except Throttled:
            raise
        except AdapterError as error:
            if error.permanent:
                return None
            raise
        return message_id

    async def chat_members(self, chat_id: str) -> frozenset[str] | None:
        """The open_ids in a chat (GET /open-apis/im/v1/chats/:chat_id/members, a page of
        100 at a time); None when Feishu will not say (no permission, not in the chat)."""
        members: set[str] = set()
        page_token = ""
        for _ in range(MEMBER_PAGES):
            query = {"member_id_type": "open_id", "page_size": "100"}
            if page_token:
                query["page_token"] = page_token
            url = f"{self._api_url}/open-apis/im/v1/chats/{chat_id}/members"
            answer = await self._get(url, query)
            data = answer.get("data") if isinstance(answer, dict) else None
            if (
                not isinstance(answer, dict)
                or answer.get("code") != 0
                or not isinstance(data, dict)
            ):
                return None
            members.update(
                str(item["member_id"])
                for item in data.get("items") or ()
                if isinstance(item, dict) and item.get("member_id")
            )
            page_token = str(data.get("page_token") or "")
            if not data.get("has_more") or not page_token:
                return frozenset(members)
        return None

    # --- incident rooms: a group chat the app creates (im:chat, im:chat:create) -----------

    async def create_chat(self, *, name: str, description: str, members: list[str]) -> str:
        """POST im/v1/chats: a private group with the bot as owner and ``members``
        (open_ids) in it; its chat_id."""
        answer = await self._call(
            f"{self._api_url}/open-apis/im/v1/chats?user_id_type=open_id",
            {
                "name": name[:60],
                "description": description[:100],
                "user_id_list": members,
                "chat_mode": "group",
                "chat_type": "private",
            },
            to="a new chat",
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        chat_id = data.get("chat_id") if isinstance(data, dict) else None
        if not chat_id:
            raise AdapterError(t("delivery.failed", reason="Feishu made a chat without an id"))
        return str(chat_id)

    async def add_members(self, chat_id: str, open_ids: list[str]) -> None:
        """POST im/v1/chats/:chat_id/members."""
        await self._call(
            f"{self._api_url}/open-apis/im/v1/chats/{chat_id}/members?member_id_type=open_id",
            {"id_list": open_ids},
            to=chat_id,
        )

    async def pin(self, message_id: str) -> None:
        """POST im/v1/pins: the message pinned in its chat."""
        await self._call(
            f"{self._api_url}/open-apis/im/v1/pins", {"message_id": message_id}, to=message_id
        )

    async def only_owner_speaks(self, chat_id: str) -> None:
        """PUT im/v1/chats/:chat_id/moderation: a closed incident's chat stays readable and
        takes no new messages but the bot's (Feishu has no archive; dissolving would lose
        the history)."""
        await self._call(
            f"{self._api_url}/open-apis/im/v1/chats/{chat_id}/moderation",
            {"moderation_setting": "only_owner"},
            to=chat_id,
            method="PUT",
        )

    async def _call(self, url: str, body: dict[str, Any], *, to: str, method: str = "POST") -> Any:
        token = await self.token.get()
        status, answer, after = await self._post(url, body, token, method=method)
        if isinstance(answer, dict) and answer.get("code") in TOKEN_REFUSED:
            self.token.forget(token)
            status, answer, after = await self._post(
                url, body, await self.token.get(), method=method
            )
        _check(status, answer, after, to=to)
        return answer

    async def _get(self, url: str, query: dict[str, str]) -> Any:
        token = await self.token.get()
        session = await self._http.session()
        try:
            async with session.get(
                url, params=query, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
            ) as response:
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def _post(
        self, url: str, body: dict[str, Any], token: str, *, method: str = "POST"
    ) -> tuple[int, Any, str]:
        headers = {"Authorization": f"Bearer {token}"}
        return await post_json(self._http, url, body, headers=headers, what="Feishu", method=method)

    async def _fetch_token(self) -> tuple[str, float]:
        url = f"{self._api_url}/open-apis/auth/v3/tenant_access_token/internal"
        body = {"app_id": self._app_id, "app_secret": self._app_secret}
        status, answer, after = await post_json(self._http, url, body, what="Feishu")
        if isinstance(answer, dict) and answer.get("code") == 0:
            token = answer.get("tenant_access_token")
            lifetime = answer.get("expire")
            if isinstance(token, str) and token:
                return token, float(lifetime) if isinstance(lifetime, int | float) else 7200.0
        code, message = _code_and_message(answer)
        if status == 429 or code in THROTTLED:
            reason = f"Feishu holds back the app's token requests ({code or status})"
            raise Throttled(
                t("delivery.failed", reason=reason), retry_after=retry_after(after, THROTTLED_WAIT)
            )
        if status >= 500 or code is None:
            raise AdapterError(t("delivery.failed", reason=f"Feishu answered {status}"))
        reason = (
            f"Feishu refused the app's id and secret ({code}: {message}); check "
            "SHIPWATCH_FEISHU_APP_ID and SHIPWATCH_FEISHU_APP_SECRET"
        )
        raise AdapterError(t("delivery.failed", reason=reason), permanent=True)


def _check(status: int, answer: Any, after: str, *, to: str) -> None:
    code, message = _code_and_message(answer)
    if code == 0:
        return
    if status == 429 or code in THROTTLED:
        reason = f"Feishu holds back the app's messages to {to} ({code or status}: {message})"
        raise Throttled(
            t("delivery.failed", reason=reason), retry_after=retry_after(after, THROTTLED_WAIT)
        )
    if status >= 500 or code is None or code in TOKEN_REFUSED:
        raise AdapterError(t("delivery.failed", reason=f"Feishu answered {status} ({code})"))
    hint = f"; {HINTS[code]}" if code in HINTS else ""
    reason = f"Feishu refused the message to {to} ({code}: {message}){hint}"
    raise AdapterError(t("delivery.failed", reason=reason), permanent=True)


def _code_and_message(answer: Any) -> tuple[int | None, str]:
    if not isinstance(answer, dict) or not isinstance(answer.get("code"), int):
        return None, ""
    return int(answer["code"]), str(answer.get("msg", ""))[:200]
