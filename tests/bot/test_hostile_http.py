"""Hostile input over real HTTP on loopback: half a surrogate pair, undecodable secrets, a
client that hangs up, a 1,000-item value, a body that never finishes, an idle connection.
Each gets a status and one sentence, never a 500, and nothing is stored."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.action_links import signer_from
from bot.http import serve
from storage.models import AlertGroup, IncidentRow, SeenEvent
from storage.unit_of_work import unit_of_work
from tests.conftest import Harness, HarnessFactory
from tests.fakes.alertmanager import alert, notification

TOKEN = "am-token-for-tests"
HOOK_TOKEN = "hook-token-for-tests"
pytestmark = pytest.mark.usefixtures("database_url")


class Server:
    def __init__(self, h: Harness, port: int) -> None:
        self.h, self.port = h, port

    async def post(
        self, path: str, body: Any, *, token: str = TOKEN, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        all_headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            **(headers or {}),
        }
        # json.dumps writes "\ud800" as the six characters of its escape: what a sender does.
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{self.port}{path}", data=data, headers=all_headers
            ) as response,
        ):
            answer = await response.json()
        await self.h.app.settle()
        return response.status, answer

    async def raw(self, request: bytes, *, close: bool = False) -> bytes:
        """``request`` as bytes on a socket of its own; everything the server answers until
        it closes (or nothing, with ``close``: the client hangs up at once)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(request)
        await writer.drain()
        if close:
            writer.close()
            return b""
        try:
            return await asyncio.wait_for(reader.read(), timeout=10)
        finally:
            writer.close()


@pytest.fixture
async def server(make_harness: HarnessFactory) -> AsyncIterator[Server]:
    h = await make_harness(
        alertmanager_token=TOKEN,
        incident_hook_token=HOOK_TOKEN,
        action_link_secret="link-secret-for-tests",
        hook_max_bytes=64 * 1024,
        http_body_timeout_seconds=0.5,
        http_idle_timeout_seconds=0.5,
    )
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        yield Server(h, port)
    finally:
        await runner.cleanup()


def stored(h: Harness) -> int:
    with unit_of_work(h.app.engine) as session:
        return sum(
            int(session.exec(select(func.count()).select_from(model)).one())
            for model in (IncidentRow, AlertGroup, SeenEvent)
        )


def lone(where: str) -> dict[str, Any]:
    body = notification(alert("DiskFull", service="web", severity="critical"))
    if where == "groupKey":
        body["groupKey"] = '{}:{alertname="\ud800"}'
    elif where == "fingerprint":
        body["alerts"][0]["fingerprint"] = "ab\udc00"
    elif where == "startsAt":
        body["alerts"][0]["startsAt"] = "2026-11-23T01:00:00\ud800Z"
    elif where == "label":
        body["alerts"][0]["labels"]["service"] = "web\ud800"
    elif where == "label name":
        body["alerts"][0]["labels"]["\udfff"] = "x"
    return body


@pytest.mark.parametrize("where", ["groupKey", "fingerprint", "startsAt", "label", "label name"])
async def test_half_a_surrogate_pair_in_an_alert_is_400_with_a_sentence(
    server: Server, where: str
) -> None:
    status, answer = await server.post("/hooks/alertmanager", lone(where))
    assert status == 400
    assert "half of a UTF-16 surrogate pair" in answer["error"]
    assert answer["error"].endswith("send whole characters.")
    assert "\n" not in answer["error"]
    assert stored(server.h) == 0


async def test_half_a_surrogate_pair_names_its_field_in_the_callers_language(
    server: Server,
) -> None:
    status, answer = await server.post(
        "/hooks/incident",
        {"title": "checkout \ud800 down", "service": "web"},
        token=HOOK_TOKEN,
        headers={"Accept-Language": "zh-CN"},
    )
    assert status == 400
    assert answer["error"].startswith("“title” 含有不成对的 UTF-16 代理项")
    status, answer = await server.post("/hooks/alertmanager", lone("label"))
    assert "“alerts[0].labels.service”" in answer["error"]
    assert stored(server.h) == 0


async def test_numbers_no_float_holds_are_400(server: Server) -> None:
    for body in (b'{"title": "x", "n": 1e999}', b'{"title": "x", "n": NaN}'):
        status, answer = await server.post("/hooks/incident", body, token=HOOK_TOKEN)
        assert status == 400
        assert "number too long or too large" in answer["error"]


async def test_an_echoed_value_is_cut_short_with_controls_escaped(server: Server) -> None:
    body = notification(alert("DiskFull", service="web"))
    body["status"] = ["firing"] * 1000
    status, answer = await server.post("/hooks/alertmanager", body)
    assert status == 400
    quoted = answer["error"].split("“")[2].split("”")[0]
    assert len(quoted) == 80
    assert quoted.endswith("…")
    body["status"] = "\x1b[31mfiring\r\n"
    status, answer = await server.post("/hooks/alertmanager", body)
    assert "“\\x1b[31mfiring\\x0d\\x0a”" in answer["error"]


async def test_undecodable_bearer_token_is_401(server: Server) -> None:
    answer = await server.raw(
        b"POST /hooks/alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"The bearer token is missing or wrong" in answer


async def test_an_action_link_with_a_non_ascii_signature_is_refused(server: Server) -> None:
    signer = signer_from(server.h.app.settings.action_link_secret, public_url="http://x")
    assert signer is not None
    genuine = signer.link("tok123", platform="dingtalk", user_id="u1").rsplit("/", 1)[1]
    payload = genuine.split(".")[0]
    for signature in ("%C3%A9%C3%A9", "%FF%FE", "%ED%A0%80"):
        line = f"GET /act/{payload}.{signature} HTTP/1.1\r\n"
        answer = await server.raw(line.encode() + b"Host: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]


async def test_a_client_that_hangs_up_mid_body_is_one_info_line(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    head = (
        b"POST /hooks/alertmanager HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n".encode()
    )
    for _ in range(20):
        await server.raw(head + b'{"version":', close=True)
    # The server learns of each hang-up from its socket; it notes it when it does.
    for _ in range(500):
        gone = [r for r in caplog.records if r.getMessage() == "client went away"]
        if len(gone) == 20:
            break
        await asyncio.sleep(0.01)
    assert len(gone) == 20
    assert all(r.levelno == logging.INFO and r.exc_info is None for r in gone)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert stored(server.h) == 0


async def test_a_stalled_body_is_answered_408_and_closed(server: Server) -> None:
    answer = await server.raw(
        b"POST /hooks/alertmanager HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n".encode()
        + b'{"version"'
    )  # returns only once the server closes: within the 0.5 s deadline, not never
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive within 0.5 seconds" in answer
    assert b"Connection: close" in answer
    assert stored(server.h) == 0


async def test_a_stalled_body_is_answered_in_the_callers_language(server: Server) -> None:
    answer = await server.raw(
        b"POST /hooks/incident HTTP/1.1\r\nHost: x\r\nAccept-Language: zh\r\n"
        + f"Authorization: Bearer {HOOK_TOKEN}\r\nContent-Length: 50\r\n\r\n".encode()
        + b"{"
    )
    assert answer.startswith(b"HTTP/1.1 408 ")
    error = json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    assert error.startswith("请求体未在 0.5 秒内送达")


async def test_an_idle_connection_and_half_sent_headers_are_closed(server: Server) -> None:
    assert await server.raw(b"") == b""  # nothing sent: closed after the idle limit
    assert await server.raw(b"POST /hooks/alertmanager HTTP/1.1\r\nHost: x\r\n") == b""
