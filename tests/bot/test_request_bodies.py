"""A callback body that reaches Shipwatch in more than one piece is read whole."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request

from bot.adapters import dingtalk_callback, feishu_events
from bot.i18n import Translator
from tests.fakes import dingtalk_robot
from tests.fakes.robot_world import APP_SECRET, FEISHU_TOKEN

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def in_two_pieces(body: bytes, headers: dict[str, str]) -> web.Request:
    """A request whose first half has arrived and whose second is still on its way."""
    loop = asyncio.get_running_loop()
    protocol = BaseProtocol(loop)
    protocol.connection_made(asyncio.Transport())  # an open connection, bytes fed by hand
    stream = StreamReader(protocol, 2**16, loop=loop)
    half = len(body) // 2
    stream.feed_data(body[:half])

    def rest() -> None:
        stream.feed_data(body[half:])
        stream.feed_eof()

    loop.call_soon(rest)
    headers = {**headers, "Content-Length": str(len(body)), "Content-Type": "application/json"}
    return make_mocked_request("POST", "/", headers=headers, payload=stream)


def translator(locale: str) -> Translator:
    return Translator(locale, UTC)


async def test_a_dingtalk_callback_in_two_pieces_is_read_whole() -> None:
    body = {"msgtype": "text", "text": {"content": "@Shipwatch /release status"}, "msgId": "m1"}
    stamp = int(NOW.timestamp() * 1000)
    signed = {"timestamp": str(stamp), "sign": dingtalk_robot.sign(APP_SECRET, stamp)}
    request = in_two_pieces(json.dumps(body).encode(), signed)
    checked = await dingtalk_callback.read(
        request,
        app_secret=APP_SECRET,
        now=NOW,
        max_bytes=64 * 1024,
        translator=translator,
        session_base="https://oapi.dingtalk.com",
        seen=dingtalk_callback.Signatures(),
    )
    assert isinstance(checked, dingtalk_callback.Callback)
    assert (checked.msg_id, checked.line) == ("m1", "/release status")


async def test_a_feishu_event_in_two_pieces_is_read_whole() -> None:
    body = {"type": "url_verification", "token": FEISHU_TOKEN, "challenge": "c-42"}
    request = in_two_pieces(json.dumps(body).encode(), {})
    event = await feishu_events.read(
        request,
        verification_token=FEISHU_TOKEN,
        max_bytes=64 * 1024,
        translator=translator,
        handle_of=lambda _: None,
    )
    assert event == feishu_events.Challenge("c-42")


async def test_a_refusal_without_accept_language_is_in_the_configured_language() -> None:
    request = in_two_pieces(b"{}", {})
    refused = await feishu_events.read(
        request,
        verification_token=None,
        max_bytes=64 * 1024,
        translator=translator,
        handle_of=lambda _: None,
        default_locale="zh",
    )
    assert isinstance(refused, web.Response)
    assert refused.status == 503
    assert refused.text is not None
    assert "SHIPWATCH_FEISHU_VERIFICATION_TOKEN" in refused.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in json.loads(refused.text)["error"])
