"""A local Feishu open platform for the app's bot: tenant_access_tokens (issued, expiring,
refused when wrong) and im/v1/messages to an open_id or a chat_id (checked and recorded,
throttled on cue). Mounted on the same server as the custom bots, as on open.feishu.cn."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web


def card_text(card: dict[str, Any]) -> str:
    """A card's title and every text a person reads on it, one per line."""
    parts = [str(card["header"]["title"]["content"])]
    for element in card["elements"]:
        if element["tag"] == "markdown":
            parts.append(element["content"])
        if element["tag"] == "div":
            parts += [f["text"]["content"] for f in element["fields"]]
    return "\n".join(parts)


def card_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for element in card["elements"]
        if element["tag"] == "action"
        for action in element["actions"]
    ]


@dataclass
class AppMessage:
    receive_id: str
    id_type: str
    card: dict[str, Any]
    at: datetime

    @property
    def title(self) -> str:
        return str(self.card["header"]["title"]["content"])

    @property
    def text(self) -> str:
        return card_text(self.card)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return card_buttons(self.card)


@dataclass
class FeishuOpenApi:
    app_id: str
    app_secret: str
    users: set[str]  # open_ids within the app's availability range
    chats: set[str]  # chat_ids the bot is a member of
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    token_lifetime: timedelta = timedelta(hours=2)
    tokens: dict[str, datetime] = field(default_factory=dict)
    token_requests: int = 0
    sent: list[AppMessage] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    throttle_next: int = 0
    edits: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)  # message ids Feishu no longer edits
    # GET …/chats/:chat_id/members: chat_id → the open_ids in it (any of self.chats).
    members: dict[str, list[str]] = field(default_factory=dict)
    member_queries: int = 0
    # Incident rooms: the chats the app made, their moderation, what was pinned; a code
    # in refuse_chats answers POST im/v1/chats (99991672: a scope the app lacks).
    made: list[dict[str, Any]] = field(default_factory=list)
    moderated: dict[str, str] = field(default_factory=dict)
    pinned: list[str] = field(default_factory=list)
    refuse_chats: int | None = None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/open-apis/auth/v3/tenant_access_token/internal", self._token),
            web.post("/open-apis/im/v1/messages", self._message),
            web.patch("/open-apis/im/v1/messages/{message_id}", self._update),
            web.get("/open-apis/im/v1/chats/{chat_id}/members", self._members),
            web.post("/open-apis/im/v1/chats", self._create_chat),
            web.post("/open-apis/im/v1/chats/{chat_id}/members", self._add_members),
            web.put("/open-apis/im/v1/chats/{chat_id}/moderation", self._moderation),
            web.post("/open-apis/im/v1/pins", self._pin),
        ]

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.tokens and self.tokens[token] > self.now()

    async def _create_chat(self, request: web.Request) -> web.Response:
        """A group with the bot as owner (its id oc_…), the members listed in it."""
        if not self._authorized(request):
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        if self.refuse_chats is not None:
            return self._refuse(
                400, self.refuse_chats, "Access denied. One of the following scopes is required"
            )
        body = await request.json()
        if not isinstance(body.get("name"), str) or len(body["name"]) > 60:
            return self._refuse(400, 99992402, "field validation failed")
        chat_id = f"oc_room{len(self.made) + 1}"
        self.made.append({"chat_id": chat_id, **body})
        self.chats.add(chat_id)
        self.members[chat_id] = list(body.get("user_id_list") or [])
        return web.json_response({"code": 0, "msg": "success", "data": {"chat_id": chat_id}})

    async def _add_members(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        chat_id = request.match_info["chat_id"]
        if chat_id not in self.chats:
            return self._refuse(400, 232011, "Operator and chat can NOT be in different tenants.")
        inside = self.members.setdefault(chat_id, [])
        inside += [m for m in (await request.json()).get("id_list", []) if m not in inside]
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _moderation(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        chat_id = request.match_info["chat_id"]
        self.moderated[chat_id] = str((await request.json()).get("moderation_setting"))
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _pin(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        self.pinned.append(str((await request.json()).get("message_id")))
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    def to(self, receive_id: str) -> list[AppMessage]:
        return [m for m in self.sent if m.receive_id == receive_id]

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        body = await request.json()
        if body.get("app_id") != self.app_id:
            return self._refuse(400, 10003, "invalid param")
        if body.get("app_secret") != self.app_secret:
            return self._refuse(400, 10014, "app secret invalid")
        token = f"t-{secrets.token_hex(16)}"
        self.tokens[token] = self.now() + self.token_lifetime
        seconds = int(self.token_lifetime.total_seconds())
        return web.json_response(
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": seconds}
        )

    async def _message(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self._refuse(400, 99991661, "Missing access token for authorization")
        if token not in self.tokens or self.tokens[token] <= self.now():
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        id_type = request.query.get("receive_id_type", "")
        body = await request.json()
        receive_id = body.get("receive_id")
        if id_type not in ("open_id", "chat_id") or not isinstance(receive_id, str):
            return self._refuse(400, 99992402, "field validation failed")
        if body.get("msg_type") != "interactive" or not isinstance(body.get("content"), str):
            return self._refuse(400, 230001, "invalid message content")
        card = json.loads(body["content"])
        if not isinstance(card.get("header"), dict) or not isinstance(card.get("elements"), list):
            return self._refuse(400, 230099, "Failed to create card content")
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return self._refuse(429, 99991400, "request trigger frequency limit", reset="1")
        if id_type == "open_id" and receive_id not in self.users:
            return self._refuse(400, 230013, "Bot has NO availability to this user.")
        if id_type == "chat_id" and receive_id not in self.chats:
            return self._refuse(400, 230002, "The bot can not be outside the group.")
        self.sent.append(AppMessage(receive_id, id_type, card, self.now()))
        message_id = f"om_{len(self.sent)}"
        return web.json_response({"code": 0, "msg": "success", "data": {"message_id": message_id}})

    async def _update(self, request: web.Request) -> web.Response:
        """PATCH a card the app sent: only a shared card (config.update_multi), only one
        that still exists."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.tokens or self.tokens[token] <= self.now():
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        message_id = request.match_info["message_id"]
        number = int(message_id.removeprefix("om_")) if message_id.startswith("om_") else 0
        if not 1 <= number <= len(self.sent) or message_id in self.gone:
            return self._refuse(400, 230011, "The message was withdrawn.")
        if not self.sent[number - 1].card.get("config", {}).get("update_multi"):
            return self._refuse(400, 230099, "Only shared cards can be updated.")
        card = json.loads((await request.json())["content"])
        self.sent[number - 1].card = card
        self.edits.append((message_id, card))
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _members(self, request: web.Request) -> web.Response:
        """A page of a chat's members, as Feishu pages them (page_size, page_token)."""
        self.member_queries += 1
        _, _, token = request.headers.get("Authorization", "").partition(" ")
        if token not in self.tokens or self.tokens[token] <= self.now():
            return self._refuse(400, 99991663, "Invalid access token for authorization")
        chat_id = request.match_info["chat_id"]
        if chat_id not in self.chats:
            return self._refuse(400, 232011, "Operator and chat can NOT be in different tenants.")
        everyone = self.members.get(chat_id, [])
        start = int(request.query.get("page_token") or 0)
        end = start + int(request.query.get("page_size") or 20)
        page = [
            {"member_id_type": "open_id", "member_id": m, "name": m} for m in everyone[start:end]
        ]
        more = end < len(everyone)
        data = {"items": page, "has_more": more, "page_token": str(end) if more else ""}
        return web.json_response({"code": 0, "msg": "success", "data": data})

    def _refuse(self, status: int, code: int, message: str, reset: str = "") -> web.Response:
        self.refused.append(code)
        headers = {"x-ogw-ratelimit-reset": reset} if reset else None
        return web.json_response({"code": code, "msg": message}, status=status, headers=headers)
