"""The DingTalk enterprise robot's HTTP callback: the ``timestamp`` / ``sign`` headers
checked before anything is read, the message turned into a command line, and the session
webhooks it brings remembered while they last."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.adapters.inbound import mentioned_line
from bot.adapters.robots import dingtalk_sign
from bot.http_input import (
    LONE_SURROGATE,
    BadBody,
    decode_json,
    error_response,
    read_body,
    request_locale,
    same_secret,
)
from bot.i18n import Translator
from playbooks.messages import Text, t

log = logging.getLogger("shipwatch.adapters.dingtalk")
WINDOW = timedelta(hours=1)  # DingTalk's own limit on the callback's timestamp


@dataclass(frozen=True, slots=True)
class Callback:
    msg_id: str
    user_id: str  # senderStaffId: what people.yaml names as the dingtalk identity
    conversation_id: str
    direct: bool  # a one-to-one chat with the robot, not a group
    line: str | None  # the command after the @mention, None when nothing is left
    session_webhook: str | None
    session_expires: datetime


async def read(
    request: web.Request,
    *,
    app_secret: str | None,
    now: datetime,
    max_bytes: int,
    translator: Callable[[str], Translator],
    session_base: str,
    seen: Signatures,
    default_locale: str = "en",
) -> Callback | web.Response:
    """The callback's message, or the answer that refuses it (nothing read or stored), in
    the caller's language.

    DingTalk's ``sign`` covers the timestamp only, never the body: a signature is taken for
    one message (``seen``), and a session webhook only on DingTalk's own API
    (``session_base``), so a captured header pair cannot post where it likes."""
    tr = translator(request_locale(request, default_locale))
    if not app_secret:
        closed = t("hook.closed", setting="SHIPWATCH_DINGTALK_APP_SECRET")
        return _refuse(tr, 503, "closed", closed)
    stamp, sign = request.headers.get("timestamp", ""), request.headers.get("sign", "")
    if not stamp or not sign:
        return _refuse(tr, 401, "unsigned", t("dingtalk.unsigned"))
    # isdigit alone lets "²" and "١٢" through, which int() refuses or reads.
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 16:
        return _refuse(tr, 401, "bad timestamp", t("dingtalk.unsigned"))
    sent = datetime.fromtimestamp(int(stamp) / 1000, UTC)
    if abs(now - sent) > WINDOW:
        return _refuse(tr, 403, "stale", t("dingtalk.stale"))
    if not same_secret(sign, dingtalk_sign(app_secret, int(stamp))):
        return _refuse(tr, 403, "bad signature", t("dingtalk.bad_sign"))
    body = await read_body(request, max_bytes)
    if body is None:
        return error_response(tr, 413, t("hook.too_large", limit=max_bytes))
    try:
        data = decode_json(body)
    except BadBody as error:
        text = error.text if error.reason == LONE_SURROGATE else t("dingtalk.not_a_message")
        return _refuse(tr, 400, error.reason, text)
    if not isinstance(data, dict) or not isinstance(data.get("msgId"), str):
        return error_response(tr, 400, t("dingtalk.not_a_message"))
    msg = _message(data, session_base=session_base)
    if not seen.take((stamp, sign), msg.msg_id, sent=sent, now=now):
        return _refuse(tr, 403, "signature reused", t("dingtalk.sign_reused"))
    return msg


def _message(data: dict[str, object], *, session_base: str) -> Callback:
    text = data.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    line = (
        mentioned_line(content)
        if data.get("msgtype") == "text" and isinstance(content, str)
        else None
    )
    expires_ms = data.get("sessionWebhookExpiredTime")
    expires = (
        datetime.fromtimestamp(expires_ms / 1000, UTC)
        if isinstance(expires_ms, int) and 0 < expires_ms < 10**14
        else datetime.min.replace(tzinfo=UTC)
    )
    webhook = data.get("sessionWebhook")
    return Callback(
        msg_id=str(data["msgId"])[:200],
        user_id=str(data.get("senderStaffId") or data.get("senderId") or "")[:200],
        conversation_id=str(data.get("conversationId") or "")[:200],
        direct=str(data.get("conversationType")) == "1",
        line=line,
        session_webhook=webhook
        if isinstance(webhook, str) and webhook.startswith(session_base.rstrip("/") + "/")
        else None,
        session_expires=expires,
    )


def _refuse(tr: Translator, status: int, reason: str, text: Text) -> web.Response:
    log.warning("dingtalk callback refused", extra={"reason": reason})
    return error_response(tr, status, text)


class Signatures:
    """The (timestamp, sign) pairs of the last hour and the message each signed: DingTalk
    may deliver a message again under its pair, but a second message is a forgery."""

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[str, str], tuple[str, datetime]] = OrderedDict()

    def take(self, pair: tuple[str, str], msg_id: str, *, sent: datetime, now: datetime) -> bool:
        """Whether ``msg_id`` may go under ``pair`` (it is the pair's first, or its own)."""
        while self._seen:
            oldest = next(iter(self._seen))
            if self._seen[oldest][1] >= now - WINDOW:
                break
            del self._seen[oldest]
        known = self._seen.get(pair)
        if known is not None:
            return known[0] == msg_id
        self._seen[pair] = (msg_id, sent)
        return True


class Sessions:
    """Session webhooks of recent callbacks, by conversation and (one-to-one) by person:
    a way to answer where no custom robot posts, while DingTalk keeps them valid."""

    def __init__(self) -> None:
        self._conversations: dict[str, tuple[str, datetime]] = {}
        self._people: dict[str, tuple[str, datetime]] = {}

    def remember(self, msg: Callback) -> None:
        if msg.session_webhook is None:
            return
        entry = (msg.session_webhook, msg.session_expires)
        self._conversations[msg.conversation_id] = entry
        if msg.direct and msg.user_id:
            self._people[msg.user_id] = entry

    def for_conversation(self, conversation_id: str, now: datetime) -> str | None:
        return _valid(self._conversations.get(conversation_id), now)

    def for_person(self, user_id: str, now: datetime) -> str | None:
        return _valid(self._people.get(user_id), now)


def _valid(entry: tuple[str, datetime] | None, now: datetime) -> str | None:
    return entry[0] if entry is not None and entry[1] > now else None
