"""Telegram in an alert storm: a Bot API that keeps one message a second per chat, twenty
a minute per group and thirty a second in all (429 with retry_after past them)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram_limits import SendLimiter
from bot.http import serve
from tests.bot.adapters.test_telegram import (
    ALICE,
    DEFAULTS,
    INCIDENTS,
    OPS,
    SECRET,
    FakeTime,
    Telegram,
)
from tests.bot.adapters.test_telegram import telegram_config as shipped_config
from tests.conftest import HarnessFactory
from tests.fakes.storm import ALERT_TOKEN, PAGES, TIMELINE_EVENTS, StormRun
from tests.fakes.telegram_api import TOKEN, FakeTelegram

PEOPLE = ("alice", "bob", "carol", "dave")
IDS = {"alice": ALICE, "bob": 1002, "carol": 1003, "dave": 1004}
# Every page reaches its person within this, measured from the page's creation to the
# Bot API's receipt on the rig's time: the virtual clock plus every wait of the send
# limiter, which would be real seconds (a page behind a post that waits for its chat's
# slot waits with it while delivery is one message at a time).
PAGE_BOUND = timedelta(seconds=5)


def telegram_config(directory: Path) -> Path:
    """The shipped configuration on Telegram, its alert incidents in the incidents group."""
    shipped_config(directory)
    text = (DEFAULTS / "alerts.yaml").read_text()
    (directory / "alerts.yaml").write_text(text.replace('"#incidents"', f'"telegram:{INCIDENTS}"'))
    return directory


@pytest.fixture
async def tg(make_harness: HarnessFactory, tmp_path: Path) -> AsyncIterator[Telegram]:
    time = FakeTime()
    fake = await FakeTelegram.start()
    fake.enforce_rates, fake.now = True, time.monotonic
    adapter = TelegramAdapter(
        TOKEN,
        api_url=fake.api_url,
        limiter=SendLimiter(monotonic=time.monotonic, sleep=time.sleep),
        mode="webhook",
        secret=SECRET,
    )
    h = await make_harness(
        adapter=adapter,
        config_dir=telegram_config(tmp_path / "config"),
        alertmanager_token=ALERT_TOKEN,
    )
    time.clock = h.clock
    runner, port = await serve(h.app, host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Telegram(h, fake, time, port, session)
    finally:
        await runner.cleanup()
        await fake.stop()


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def test_a_storm_on_telegram_pages_everyone_in_time_and_loses_nothing(tg: Telegram) -> None:
    storm = StormRun(
        tg.h.app,
        f"http://127.0.0.1:{tg.port}",
        tg.session,
        platform="telegram",
        actor=str(ALICE),
        channel=str(OPS),
        people=PEOPLE,
        now=lambda: _moment(tg.time.monotonic()),
    )
    figures = await storm.run()
    assert (figures.alerts, figures.incidents) == (1000, 4), "folded into one per service"
    assert figures.timeline_events >= TIMELINE_EVENTS

    before = len(tg.fake.sent())
    await tg.say("/incident timeline 1", user=ALICE, chat=OPS)
    await storm.drain()
    parts = [str(c.params["text"]) for c in tg.fake.sent()[before:] if c.params["chat_id"] == OPS]
    shown = {int(n) for n in re.findall(r"storm update (\d+)", "\n".join(parts))}
    figures.timeline_parts = len(parts)
    assert len(parts) > 1
    assert shown == set(range(1, figures.notes + 1)) or "… and " in parts[-1], (
        "every note is in one of the parts, or the last says what was left out"
    )

    storm.measure_pages(
        lambda handle: [
            (str(c.params["text"]), _moment(c.at))
            for c in tg.fake.sent()
            if c.params["chat_id"] == IDS[handle]
        ]
    )
    figures.posts.update(str(c.params["chat_id"]) for c in tg.fake.sent())
    figures.throttled = len(tg.fake.limited)
    print(figures.line())

    assert [r.state for r in storm.outbox() if r.state != "sent"] == [], "every message sent"
    assert [r.attempts for r in storm.outbox() if r.attempts != 1] == [], (
        "sent at the first attempt: no rate-limit wait counted as one"
    )
    assert figures.throttled == 0, "Shipwatch keeps each chat's limits"
    assert len(figures.page_latency) == PAGES, "every page reached its person"
    assert figures.latency_max() <= PAGE_BOUND
