"""Incident rooms on Telegram, where a bot cannot create groups: a topic of a configured
forum supergroup (createForumTopic, messages with message_thread_id, closeForumTopic),
against the local fake Bot API; a chat that is not a forum keeps the shared chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.http import serve
from storage.models import IncidentRoom
from storage.unit_of_work import unit_of_work
from tests.bot.adapters.test_telegram import (
    ALICE,
    BOB,
    INCIDENTS,
    SECRET,
    TECH,
    FakeTime,
    Telegram,
    _harness,
    telegram_config,
)
from tests.conftest import HarnessFactory
from tests.fakes.telegram_api import FakeTelegram, message_update

pytestmark = pytest.mark.usefixtures("database_url")
FORUM = -100900


def with_rooms(config: Path) -> Path:
    severity = config / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    severity.write_text(
        text.replace("severities: []", "severities: [P0, P1, P2]"), encoding="utf-8"
    )
    return config


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram.start()
    yield server
    await server.stop()


@pytest.fixture
async def tg(
    make_harness: HarnessFactory, fake: FakeTelegram, tmp_path: Path
) -> AsyncIterator[Telegram]:
    time = FakeTime()
    config = with_rooms(telegram_config(tmp_path / "config"))
    h, _ = await _harness(
        make_harness, fake, time, config, mode="webhook", secret=SECRET, forum_chat=str(FORUM)
    )
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Telegram(h, fake, time, port, session)
    finally:
        await runner.cleanup()


def room(tg: Telegram) -> IncidentRoom:
    with unit_of_work(tg.h.app.engine) as session:
        found = session.get(IncidentRoom, 1)
        assert found is not None
        session.expunge(found)
        return found


def in_chat(tg: Telegram, chat: int) -> list[str]:
    return [str(c.params["text"]) for c in tg.fake.sent() if c.params["chat_id"] == chat]


async def test_a_p1_gets_a_forum_topic_closed_after_the_grace(tg: Telegram) -> None:
    tg.fake.forums.add(FORUM)
    await tg.say('/incident open "checkout returns 500" --sev P1 --service web', user=ALICE)
    [create] = tg.fake.sent("createForumTopic")
    assert create.params["chat_id"] == FORUM
    assert create.params["name"] == "#1 [P1] checkout returns 500"
    thread = next(iter(tg.fake.topics))
    assert room(tg).platform_id == f"{FORUM}/{thread}"
    in_topic = [c for c in tg.fake.sent() if c.params.get("message_thread_id") == thread]
    assert "Incident #1: checkout returns 500" in in_topic[0].params["text"]
    assert "opened by @alice" in in_topic[1].params["text"]
    [pin] = tg.fake.sent("pinChatMessage")
    assert pin.params["chat_id"] == FORUM
    line = "🚨 Incident #1 [P1] checkout returns 500 has its own room: #inc-1-checkout-returns-500."
    assert in_chat(tg, INCIDENTS) == [line]
    assert in_chat(tg, TECH) == [line]
    # In the topic, no id: bob acknowledges; the answer stays in the topic.
    update = message_update("/incident ack", user_id=BOB, chat_id=FORUM, thread=thread)
    await tg.webhook({"update_id": tg.fake.next_update_id(), **update})
    ack = [c for c in tg.fake.sent() if "acknowledged by @bob" in str(c.params["text"])]
    assert ack
    assert ack[0].params["message_thread_id"] == thread
    # The pinned summary is edited in place.
    assert any("acknowledged" in str(c.params["text"]) for c in tg.fake.sent("editMessageText"))
    await tg.say("/incident resolve 1", user=BOB)
    await tg.say("/incident close 1", user=ALICE)
    await tg.h.advance(minutes=61)
    [close] = tg.fake.sent("closeForumTopic")
    assert close.params["message_thread_id"] == thread
    assert tg.fake.topics[thread]["closed"]
    assert room(tg).state == "closed"


async def test_a_chat_that_is_not_a_forum_keeps_the_shared_chat(tg: Telegram) -> None:
    await tg.say('/incident open "checkout returns 500" --sev P1 --service web', user=ALICE)
    await tg.say('/incident open "search is slow" --sev P2 --service web', user=ALICE)
    assert room(tg).state == "fallback"
    shared = in_chat(tg, INCIDENTS)
    refusals = [text for text in shared if "could not make a room" in text]
    assert len(refusals) == 1
    assert "the chat is not a forum" in refusals[0].lower()
    assert any("Incident #1 [P1] opened by @alice" in text for text in shared)
    assert any("Incident #2 [P2] opened by @alice" in text for text in shared)
