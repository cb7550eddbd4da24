"""POST /hooks/heartbeat/NAME over real HTTP on loopback: the token rules of every hook,
a beat recorded, and an unknown name refused with a sentence (404), storing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import func, select

from bot.http import serve
from storage.models import HeartbeatRow, SeenEvent
from storage.unit_of_work import unit_of_work
from tests.commands.incidents.test_heartbeats import config
from tests.conftest import Harness, HarnessFactory

TOKEN = "heartbeat-token-for-tests"
pytestmark = pytest.mark.usefixtures("database_url")


class Client:
    def __init__(self, h: Harness, port: int, session: aiohttp.ClientSession) -> None:
        self.h, self.port, self.session = h, port, session

    async def beat(
        self, name: str, *, token: str | None = TOKEN, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        async with self.session.post(
            f"http://127.0.0.1:{self.port}/hooks/heartbeat/{name}", headers=all_headers
        ) as response:
            answer = await response.json()
        await self.h.app.settle()
        return response.status, answer


@pytest.fixture
async def client(make_harness: HarnessFactory, tmp_path: Path) -> AsyncIterator[Client]:
    h = await make_harness(config_dir=config(tmp_path), heartbeat_token=TOKEN)
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(h, port, session)
    finally:
        await runner.cleanup()


def beats(h: Harness) -> int:
    with unit_of_work(h.app.engine) as session:
        row = session.exec(select(HeartbeatRow)).first()
        return row.beats if row else 0


async def test_a_beat_is_recorded_and_says_when_the_next_is_due(client: Client) -> None:
    status, answer = await client.beat("nightly-backup")
    assert status == 200
    assert answer["status"] == "ok"
    assert answer["action"] == "first"
    assert answer["next_due"] == "2026-11-23T02:10:00+00:00"
    await client.beat("nightly-backup")
    assert beats(client.h) == 2


async def test_a_repeated_delivery_with_an_idempotency_key_counts_once(client: Client) -> None:
    key = {"Idempotency-Key": "run-2026-11-23"}
    assert (await client.beat("nightly-backup", headers=key))[0] == 200
    assert await client.beat("nightly-backup", headers=key) == (200, {"status": "duplicate"})
    assert beats(client.h) == 1


async def test_an_unknown_name_is_404_with_a_sentence(client: Client) -> None:
    status, answer = await client.beat("nightly-bakcup")
    assert status == 404
    assert answer["error"] == (
        "There is no heartbeat “nightly-bakcup” in heartbeats.yaml; "
        "known: nightly-backup, report-export."
    )
    assert beats(client.h) == 0
    status, answer = await client.beat("nightly-bakcup", headers={"Accept-Language": "zh"})
    assert status == 404
    assert "heartbeats.yaml 中没有心跳" in answer["error"]


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_a_wrong_token_is_401_and_stores_nothing(client: Client, token: str | None) -> None:
    status, _ = await client.beat("nightly-backup", token=token)
    assert status == 401
    assert beats(client.h) == 0
    with unit_of_work(client.h.app.engine) as session:
        assert session.exec(select(func.count()).select_from(SeenEvent)).one() == 0


async def test_a_closed_hook_names_its_setting(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(config_dir=config(tmp_path))
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            status, answer = await Client(h, port, session).beat("nightly-backup")
    finally:
        await runner.cleanup()
    assert status == 503
    assert "SHIPWATCH_HEARTBEAT_TOKEN" in answer["error"]
