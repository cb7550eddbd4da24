"""Feishu's event subscription over HTTP (``POST /feishu/events``): the verification token
checked before anything is used, the URL challenge answered, and a message to the app's bot
(``im.message.receive_v1``) turned into a command line."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.adapters.inbound import mentioned_line
from bot.http_input import (
    LONE_SURROGATE,
    BadBody,
    decode_json,
    error_response,
    lone_surrogate_at,
    read_body,
    request_locale,
    same_secret,
)
from bot.i18n import Translator
from playbooks.messages import Text, t

log = logging.getLogger("shipwatch.adapters.feishu")
MESSAGE_EVENT = "im.message.receive_v1"


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge: str


@dataclass(frozen=True, slots=True)
class MessageEvent:
    event_id: str
    user_id: str  # the sender's open_id: what people.yaml names as the feishu identity
    chat_id: str
    direct: bool  # a one-to-one chat with the bot (chat_type p2p), not a group
    line: str | None  # the command after the @mention, None when nothing is left


async def read(
    request: web.Request,
    *,
    verification_token: str | None,
    max_bytes: int,
    translator: Callable[[str], Translator],
    default_locale: str = "en",
    handle_of: Callable[[str], str | None],
) -> Challenge | MessageEvent | web.Response:
    """The event, or the answer that refuses it (nothing used or stored). ``handle_of``
    turns a mentioned person's open_id into their handle, for commands like /page."""
    tr = translator(request_locale(request, default_locale))
    if not verification_token:
        closed = t("hook.closed", setting="SHIPWATCH_FEISHU_VERIFICATION_TOKEN")
        return _refuse(tr, 503, "closed", closed)
    body = await read_body(request, max_bytes)
    if body is None:
        return error_response(tr, 413, t("hook.too_large", limit=max_bytes))
    try:
        data = decode_json(body)
    except BadBody as error:
        text = error.text if error.reason == LONE_SURROGATE else t("feishu.not_an_event")
        return _refuse(tr, 400, error.reason, text)
    if not isinstance(data, dict):
        return _refuse(tr, 400, "not an object", t("feishu.not_an_event"))
    if "encrypt" in data:
        return _refuse(tr, 400, "encrypted", t("feishu.encrypted"))
    header = _obj(data.get("header"))
    given = header.get("token", data.get("token"))
    if not isinstance(given, str) or not given:
        return _refuse(tr, 401, "no token", t("feishu.no_token"))
    if not same_secret(given, verification_token):
        return _refuse(tr, 403, "wrong token", t("feishu.bad_token"))
    if data.get("type") == "url_verification":
        return Challenge(str(data.get("challenge", ""))[:500])
    if header.get("event_type") != MESSAGE_EVENT or not isinstance(data.get("event"), dict):
        return web.json_response({})  # an event Shipwatch does not subscribe to
    try:
        return _message(str(header.get("event_id") or "")[:200], data["event"], handle_of)
    except BadBody as error:
        return _refuse(tr, 400, error.reason, error.text)


def _message(
    event_id: str, event: dict[str, Any], handle_of: Callable[[str], str | None]
) -> MessageEvent | web.Response:
    sender, message = _obj(event.get("sender")), _obj(event.get("message"))
    open_id = str(_obj(sender.get("sender_id")).get("open_id") or "")[:200]
    if not event_id or not open_id or sender.get("sender_type") != "user":
        return web.json_response({})  # another bot speaking, or nothing to act on
    line = None
    if message.get("message_type") == "text":
        line = _line(message, handle_of)
    return MessageEvent(
        event_id=event_id,
        user_id=open_id,
        chat_id=str(message.get("chat_id") or "")[:200],
        direct=message.get("chat_type") == "p2p",
        line=line,
    )


def _line(message: dict[str, Any], handle_of: Callable[[str], str | None]) -> str | None:
    """``{"text": "@_user_1 /page @_user_2 checkout is down"}`` → the bot's mention gone,
    the other one the person's handle (or name)."""
    try:
        content = json.loads(str(message.get("content") or ""))
    except (ValueError, RecursionError):
        return None
    # The content is JSON inside a JSON string: its escapes are read only here.
    field = lone_surrogate_at(content)
    if field is not None:
        raise BadBody(
            t("hook.lone_surrogate", field=f"event.message.content.{field}"), LONE_SURROGATE
        )
    text = content.get("text") if isinstance(content, dict) else None
    if not isinstance(text, str):
        return None
    line = mentioned_line(text)
    mentions = message.get("mentions")
    if line is None or not isinstance(mentions, list):
        return line
    for mention in mentions:
        if not isinstance(mention, dict) or not isinstance(mention.get("key"), str):
            continue
        open_id = str(_obj(mention.get("id")).get("open_id") or "")
        handle = handle_of(open_id) if open_id else None
        name = handle or str(mention.get("name") or "").replace(" ", "")
        line = line.replace(mention["key"], f"@{name}")
    return line


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _refuse(tr: Translator, status: int, reason: str, text: Text) -> web.Response:
    log.warning("feishu event refused", extra={"reason": reason})
    return error_response(tr, status, text)
